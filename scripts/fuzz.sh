#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz + libFuzzer, nightly toolchain) for a bounded
# time and fails on any crash, panic, leak, timeout or out-of-memory.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 60); all targets
#                                           unless some are named
#
# Limits: -rss_limit_mb=2048 (and a single allocation above it) and -timeout=10 (one input)
# turn a memory blow-up or a hang into a failure; -max_len is set per target just above
# the core's own input cap. New inputs go to fuzz/target/corpus/<target> (git-ignored);
# the committed corpus (fuzz/corpus/<target>) is read, never written. A failing input is
# saved under fuzz/artifacts/<target>/: add it to fuzz/corpus/<target>/ once fixed, and the
# core's tests replay it (core/tests/core/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs=${1:-60}
shift || true
# The fuzz workspace builds into its own fuzz/target, never a shared one.
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo +nightly fuzz list); fi

# -max_len per target: a little above the cap the core enforces, so the cap is exercised.
max_len() {
  case "$1" in
    base64url) echo 4096 ;;
    pkce) echo 256 ;;
    jwks) echo 65536 ;;
    *) echo 16500 ;; # JWS/JWT 16 KiB (jws::MAX_TOKEN_LEN), scopes 16 KiB (MAX_SCOPES_LEN)
  esac
}
dict() {
  case "$1" in
    scope) echo dicts/scope.dict ;;
    pkce | base64url) echo "" ;;
    *) echo dicts/jose.dict ;;
  esac
}

echo "==> building fuzz targets (release, debug assertions, AddressSanitizer)"
nice -n 19 cargo +nightly fuzz build

mkdir -p target/logs
declare -A execs
failed=()
for t in "${targets[@]}"; do
  work="target/corpus/$t"
  log="target/logs/$t.log"
  mkdir -p "$work"
  args=(-max_total_time="$secs" -rss_limit_mb=2048 -max_len="$(max_len "$t")" -timeout=10
        -detect_leaks=1 -print_final_stats=1)
  d=$(dict "$t")
  if [ -n "$d" ]; then args+=(-dict="$d"); fi
  echo "==> $t: ${secs}s, ${args[*]}"
  if nice -n 19 cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- "${args[@]}" >"$log" 2>&1; then
    execs[$t]=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
    echo "    ok: ${execs[$t]} execs"
  else
    execs[$t]="FAILED"
    failed+=("$t")
    grep -E "ERROR|panicked|SUMMARY|Test unit written|leak|timeout|out-of-memory" "$log" | head -20 || true
    echo "    FAILED: full log in fuzz/$log"
  fi
done

echo
echo "==> executions per target (${secs}s each)"
for t in "${targets[@]}"; do printf '%-14s %s\n' "$t" "${execs[$t]}"; done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
