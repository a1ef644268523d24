#!/usr/bin/env bash
# Benchmark of the FHIR API (not a test): `read` and a paged `search` with a valid
# DPoP-bound token, loaded by wrk on loopback against a release build, once per guard
# caching mode (none: JWKS parsed per request; keys: one guard per key ring; tokens:
# verified tokens remembered too; the DPoP proof is checked on every request in all
# three).
#
#   mock-ehr/bench/fhir.sh                  # all modes, 10 s per run
#   MODES=tokens DURATION=5 mock-ehr/bench/fhir.sh
#   SKIP_BUILD=1 CARGO_TARGET_DIR=/some/target mock-ehr/bench/fhir.sh   # prebuilt binaries
#
# Needs wrk (Debian: apt-get install wrk) and python3. Each request carries a proof
# never used before (bench_proofs makes them ahead: a proof is single-use and bound to
# method and URL), so PROOFS must exceed the requests of one run; proofs expire 60 s
# after they are made, so a run must start right after. The server's /_admin/stats
# splits the handler time between the guard (token + proof + scopes) and the FHIR work
# (wall time inside the handler, which runs without awaiting); cpu_us is the server
# process's CPU time (all threads, from /proc) per request served, which a busy machine
# does not inflate the way it inflates latencies.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-1}
PROOFS=${PROOFS:-200000}
PORT=${PORT:-18181}
MODES=${MODES:-"none keys tokens"}
TARGET=${CARGO_TARGET_DIR:-target}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release -q -p mock-ehr --bin mock-ehr --example bench_proofs
fi

echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on the same machine"
printf '%-7s %-7s %8s %8s %8s %8s %9s %9s %9s %7s %10s %6s  %s\n' \
  mode case req/s p50 p99 cpu_us guard_us fhir_us other_us guard% cache_hits non2xx loadavg
for mode in $MODES; do
  "$TARGET/release/mock-ehr" --port "$PORT" --guard-cache "$mode" --log-format json \
    >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 50); do curl -sf "$BASE/fhir/metadata" >/dev/null && break; sleep 0.1; done
  for case in read search; do
    if [ "$case" = read ]; then
      path=/fhir/Patient/pat-002
      paths=$path
    else
      path=/fhir/Observation
      paths="$path?_count=5 $path?_count=5&_offset=5 $path?_count=5&_offset=10"
    fi
    "$TARGET/release/examples/bench_proofs" "$BASE" "$path" "$PROOFS" "$WORK/proofs" \
      "launch/patient patient/*.rs" pat-002
    curl -sf -X DELETE "$BASE/_admin/stats" >/dev/null
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    cpu_before=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
    PROOFS="$WORK/proofs" PATHS="$paths" THREADS="$THREADS" \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
      -s mock-ehr/bench/proofs.lua "$BASE" >"$WORK/wrk.out"
    cpu_after=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
    curl -sf "$BASE/_admin/stats" >"$WORK/stats.json"
    python3 - "$mode" "$case" "$load" "$WORK/wrk.out" "$WORK/stats.json" \
      "$((cpu_after - cpu_before))" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys
mode, case, load, wrk_out, stats_file, ticks, hz = sys.argv[1:]
text = open(wrk_out).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
def pct(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+\w+)" % p, text, re.M)
    return m.group(1) if m else "?"
bad = re.search(r"non-2xx or errors: (\d+)", text).group(1)
s = json.load(open(stats_file))
per = s["per_request_us"]
# The server process's CPU time (user + system, all threads) per request served.
cpu_us = int(ticks) / int(hz) * 1e6 / max(s["requests"], 1)
print("%-7s %-7s %8.0f %8s %8s %8.0f %9.1f %9.1f %9.1f %6.0f%% %10d %6s  %s" % (
    mode, case, float(rps), pct(50), pct(99), cpu_us, per["guard"], per["fhir"], per["other"],
    100 * s["share"]["guard"], s["token_cache"]["hits"], bad, load))
PY
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
done
