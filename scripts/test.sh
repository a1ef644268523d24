#!/usr/bin/env bash
# The one command that runs every test of smartgate, on a fresh machine or a warm one.
# It installs what is missing (and skips what is there), then runs, stopping at the
# first failure:
#   cargo fmt --check; cargo clippy (all targets, -D warnings); the core built for
#   wasm32v1-none (no std at all); the core's docs; cargo test --workspace; the WASM
#   package's JS tests; a fuzz smoke run (scripts/fuzz.sh 10: 10 s per target) when a
#   nightly toolchain is installed, clearly reported as skipped otherwise.
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

step "fuzz smoke (10 s per target)"
if rustup run nightly rustc --version >/dev/null 2>&1; then
  scripts/fuzz.sh 10
else
  echo "fuzz smoke: SKIPPED (no nightly toolchain; rustup toolchain install nightly to run it)"
fi

step "all tests passed"
