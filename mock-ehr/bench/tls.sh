#!/usr/bin/env bash
# Benchmark of HTTPS (not a test): the same FHIR read with a Bearer token over plain
# HTTP and over `--tls` (TLS 1.3, rustls on ring), loaded by wrk on loopback against a
# release build, in the same run so the figures are ratios:
#   keep-alive: every request on a few long-lived connections (what the encryption of
#               each request and response costs);
#   new connection per request (`Connection: close`): a full TCP + TLS handshake each.
#
#   mock-ehr/bench/tls.sh                   # 10 s per run
#   DURATION=5 ROUNDS=3 mock-ehr/bench/tls.sh
#   SKIP_BUILD=1 CARGO_TARGET_DIR=/some/target mock-ehr/bench/tls.sh
#
# Needs wrk (Debian: apt-get install wrk; it speaks TLS through OpenSSL and does not
# check the certificate) and curl. Rounds alternate plain and TLS so that a change of
# machine load hits both.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}
ROUNDS=${ROUNDS:-2}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release -q -p mock-ehr --bin mock-ehr
fi

# Starts a server with "$@", waits for its first stdout line (the base URL), echoes it.
start() {
  local out="$WORK/out.$#.$RANDOM"
  "$TARGET/release/mock-ehr" --port 0 --log-format json "$@" >"$out" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 100); do
    if [ -s "$out" ]; then head -1 "$out"; return; fi
    sleep 0.05
  done
  echo "server did not start: $*" >&2
  exit 1
}

plain=$(start)
tls=$(start --tls --tls-cert-out "$WORK/cert.pem")
token() {
  curl -sf --cacert "$WORK/cert.pem" -XPOST "$1/_admin/tokens" \
    -H 'content-type: application/json' \
    -d '{"client_id":"demo-app","scope":"launch/patient patient/*.rs","patient":"pat-002","expires_in":3600}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
plain_token=$(token "$plain")
tls_token=$(token "$tls")

run() { # base token extra-header... -> "req/s p50 p99 non2xx"
  local base=$1 tok=$2
  shift 2
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $tok" "$@" \
    "$base/fhir/Patient/pat-002" >"$WORK/wrk.out"
  python3 - "$WORK/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
def pct(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+\w+)" % p, t, re.M)
    return m.group(1) if m else "?"
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: (.*)", t)
print(f"{rps:.0f} {pct(50)} {pct(99)} {bad.group(1) if bad else 0} {err.group(1).replace(' ', '') if err else '-'}")
PY
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; wrk -t1 -c$CONNECTIONS -d${DURATION}s; GET /fhir/Patient/pat-002, Bearer"
printf '%-6s %-10s %-6s %9s %9s %9s %7s  %s\n' round connection scheme req/s p50 p99 non2xx socket_errors
declare -A sum
for round in $(seq "$ROUNDS"); do
  for conn in keep-alive close; do
    extra=()
    if [ "$conn" = close ]; then extra=(-H "Connection: close"); fi
    for scheme in http https; do
      if [ "$scheme" = http ]; then r=$(run "$plain" "$plain_token" "${extra[@]}")
      else r=$(run "$tls" "$tls_token" "${extra[@]}"); fi
      read -r rps p50 p99 bad err <<<"$r"
      printf '%-6s %-10s %-6s %9s %9s %9s %7s  %s\n' "$round" "$conn" "$scheme" "$rps" "$p50" "$p99" "$bad" "$err"
      sum[$conn.$scheme]=$(( ${sum[$conn.$scheme]:-0} + rps ))
    done
  done
done
for conn in keep-alive close; do
  python3 -c "import sys; h, s = int(sys.argv[1]), int(sys.argv[2]); print(f'{sys.argv[3]:<10} https/http throughput: {s / h:.2f}x ({s // int(sys.argv[4])} vs {h // int(sys.argv[4])} req/s, mean of rounds)')" \
    "${sum[$conn.http]}" "${sum[$conn.https]}" "$conn" "$ROUNDS"
done
