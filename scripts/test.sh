#!/usr/bin/env bash
# The one command that runs every test of smartgate, on a fresh machine or a warm one.
# It installs what is missing (and skips what is there), then runs, stopping at the
# first failure:
#   cargo fmt --check; cargo clippy (all targets, -D warnings); the core built for
#   wasm32v1-none (no std at all); the core's docs; cargo test --workspace; the WASM
#   package's JS tests; the mock EHR's pages and the example SMART app (fhirclient and
#   the WASM package built just before) in headless Chromium (tests/browser); a
#   fuzz smoke run (scripts/fuzz.sh 10: 10 s per target) when a nightly toolchain is
#   installed, clearly reported as skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- install what is missing ------------------------------------------------------
step "toolchain targets"
installed=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32v1-none; do
  if grep -qx "$t" <<<"$installed"; then echo "$t: present"; else rustup target add "$t"; fi
done

# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -n "$wb_version" ]; then
  step "wasm-bindgen-cli $wb_version"
  if command -v wasm-bindgen >/dev/null && [ "$(wasm-bindgen --version | awk '{print $2}')" = "$wb_version" ]; then
    echo "present"
  else
    # No --locked: the registry mirror lacks some of the CLI's pinned transitive versions.
    cargo install wasm-bindgen-cli --version "=$wb_version"
  fi
fi

# System packages the WASM package's tests drive: Debian's Chromium (the browser test,
# through playwright-core) and redis-server (the cross-process DPoP replay test).
apt_missing=()
[ -x /usr/bin/chromium ] || apt_missing+=(chromium)
command -v redis-server >/dev/null || apt_missing+=(redis-server)
if [ ${#apt_missing[@]} -gt 0 ]; then
  step "apt-get install ${apt_missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}"
fi

# npm packages, from committed lockfiles only.
for lock in $(git ls-files '*package-lock.json' | grep -v node_modules || true); do
  dir=$(dirname "$lock")
  step "npm ci in $dir"
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$lock" ]; then
    echo "node_modules up to date"
  else
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done

# Chromium for tests/browser (playwright-core drives Debian's build).

# --- run --------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "core without std, for wasm32v1-none"
cargo build -p smartgate-core --no-default-features --target wasm32v1-none
cargo build -p smartgate-core --no-default-features --features p384,rsa --target wasm32v1-none

step "cargo doc (core, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p smartgate-core --no-deps --features ring,getrandom

step "cargo test --workspace"
cargo test --workspace

if [ -x wasm/build.sh ]; then
  step "WASM package"
  wasm/build.sh
  (cd wasm && npm test)
fi

step "mock EHR pages and the example SMART app in headless Chromium (tests/browser)"
cargo build -p mock-ehr --bin mock-ehr
node --test tests/browser/

step "fuzz smoke (10 s per target)"
if rustup run nightly rustc --version >/dev/null 2>&1; then
  scripts/fuzz.sh 10
else
  echo "fuzz smoke: SKIPPED (no nightly toolchain; rustup toolchain install nightly to run it)"
fi

step "all tests passed"
