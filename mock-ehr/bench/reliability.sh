#!/usr/bin/env bash
# Reliability under load (a timed run, not a test): the mock EHR on 127.0.0.1 under
# mixed load while its keys rotate, its state resets and it is restarted.
#
#   mock-ehr/bench/reliability.sh                        # 90 s of load, restart at 60 s
#   mock-ehr/bench/reliability.sh --duration 120 --restart-at 80 --report /tmp/rel.txt
#   mock-ehr/bench/reliability.sh --smoke                # 12 s, same checks
#   mock-ehr/bench/reliability.sh --smoke --debug        # the same on a debug build
#   SKIP_BUILD=1 CARGO_TARGET_DIR=/some/target mock-ehr/bench/reliability.sh
#
# Options: --duration SECS (load time, default 90), --restart-at SECS (default 2/3 of
# the duration; 0 = no restart), --conns N (connections per stream, default 2),
# --rss-bound MIB (default 64), --report FILE (also write the report there), --smoke
# (12 s: warm-up 2 s, rotation every 2 s, reset every 3 s, restart at 7 s, 1 s down),
# --debug (build and run the debug profile: no LTO build; latencies are not comparable).
#
# The load (examples/reliability_load/, one process, 4 streams x N keep-alive
# connections): client_credentials with a fresh ES384 assertion per request; refresh
# chains (code flow, then refresh after refresh, each connection carrying its own
# rotating refresh token); FHIR reads and searches with a Bearer token; the same with a
# DPoP-bound token and a fresh proof per request. Meanwhile this script, once a second:
# samples the server's VmRSS, rotates the keys every 3 s (POST /_admin/keys/rotate),
# resets the state every 7 s (POST /_admin/reset); at --restart-at it sends SIGTERM,
# waits for the exit, leaves the port closed for 2 s, and starts a new server on the
# same port. Every state change goes to a log the driver reads at the end to classify
# failures (see the driver's header): a token refused after a reset or restart, or a
# connection refused while the server is down, is expected; any 5xx, any other 4xx,
# a refusal with no reset in between (nor two key rotations: the JWKS keeps one
# previous key pair, so an access token outlives one rotation but not two), a
# transport error while the server is up, a stream that does not recover, an admin call
# that fails, a shutdown that takes over 10 s, or RSS beyond the bound fails the run.
#
# RSS bound: the end RSS (of the first server just before the restart, and of the second
# at the end) must stay within --rss-bound MiB of the first server's RSS after a 5 s
# warm-up. The store is bounded by time, and a reset every 7 s empties it, so what the
# load can keep alive is at most ~7 s of records (codes, grants, refresh and access
# records, audit events; the audit trail is also capped at 100,000 events), plus the
# DPoP replay cache, the allocator's retained pages and per-thread arenas.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=90
RESTART_AT=
CONNS=2
RSS_BOUND_MIB=64
REPORT=
PROFILE=release
WARMUP=5
ROTATE_EVERY=3
RESET_EVERY=7
DOWN_SECS=2
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --restart-at) RESTART_AT=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --rss-bound) RSS_BOUND_MIB=$2; shift 2 ;;
    --report) REPORT=$2; shift 2 ;;
    --smoke) DURATION=12; RESTART_AT=7; WARMUP=2; ROTATE_EVERY=2; RESET_EVERY=3; DOWN_SECS=1; shift ;;
    --debug) PROFILE=debug; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
RESTART_AT=${RESTART_AT:-$(( DURATION * 2 / 3 ))}
if [ "$DURATION" -le $(( WARMUP + 2 )) ]; then echo "--duration must exceed $(( WARMUP + 2 )) s" >&2; exit 2; fi
if [ "$RESTART_AT" -ne 0 ] && { [ "$RESTART_AT" -le "$WARMUP" ] || [ "$RESTART_AT" -ge $(( DURATION - DOWN_SECS - 2 )) ]; }; then
  echo "--restart-at must lie between the warm-up ($WARMUP s) and the end minus $(( DOWN_SECS + 2 )) s" >&2; exit 2
fi

TARGET_DIR=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d /tmp/mock-ehr-reliability.XXXXXX)
SERVER=
DRIVER=
cleanup() {
  for pid in $DRIVER $SERVER; do kill "$pid" 2>/dev/null || true; done
  for pid in $DRIVER $SERVER; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
now_ms() { date +%s%3N; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

command -v curl >/dev/null || { say "curl is missing"; exit 2; }
if [ -z "${SKIP_BUILD:-}" ]; then
  say "building ($PROFILE)"
  if [ "$PROFILE" = release ]; then
    cargo build --release -q -p mock-ehr --bin mock-ehr --example reliability_load
  else
    cargo build -q -p mock-ehr --bin mock-ehr --example reliability_load
  fi
fi
# Copied at once: the target directory may be shared with other builds.
mkdir -p "$WORK/bin"
cp "$TARGET_DIR/$PROFILE/mock-ehr" "$TARGET_DIR/$PROFILE/examples/reliability_load" "$WORK/bin/"

SERVERS=0
start_server() { # port (0 = any) -> sets SERVER, BASE
  local out="$WORK/server.$SERVERS.out" deadline=$(( $(date +%s) + 10 ))
  SERVERS=$(( SERVERS + 1 ))
  # Request logs go nowhere: at thousands of requests per second they are the disk's.
  "$WORK/bin/mock-ehr" --port "$1" --auto-approve --log-format json \
    > >(head -n 1 >"$out"; cat >/dev/null) 2> >(head -c 65536 >"$out.err"; cat >/dev/null) &
  SERVER=$!
  BASE=
  until [ -n "$BASE" ] && curl -fs -o /dev/null "$BASE/fhir/.well-known/smart-configuration"; do
    [ -z "$BASE" ] && [ -s "$out" ] && BASE=$(head -n 1 "$out")
    kill -0 "$SERVER" 2>/dev/null || { say "mock-ehr died: $(cat "$out.err")"; exit 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { say "mock-ehr not ready in 10 s"; exit 1; }
    sleep 0.02
  done
}

admin() { # kind path: one state change, logged with its start and end
  local t0 t1 kind=$1
  t0=$(now_ms)
  if ! curl -fsS -o /dev/null --max-time 10 -X POST "$BASE$2" 2>>"$WORK/admin.err"; then
    kind="$kind-failed"
  fi
  t1=$(now_ms)
  echo "$kind $t0 $t1" >>"$WORK/events"
}

: >"$WORK/events"
start_server 0
PORT=${BASE##*:}
say "mock-ehr at $BASE; ${DURATION}s of load, restart at ${RESTART_AT}s"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
"$WORK/bin/reliability_load" --base "$BASE" --secs "$DURATION" --conns "$CONNS" \
  --events "$WORK/events" >"$WORK/driver.out" 2>"$WORK/driver.err" &
DRIVER=$!

RSS_START=; RSS_A_END=; RSS_MAX=0; RSS_SERIES=; SHUTDOWN_MS=; SHUTDOWN_RC=; SHUTDOWN_KILLED=
RESTARTED=
for (( t = 1; t <= DURATION - 2; t++ )); do
  # Once a second, on the second.
  sleep_for=$(( T0 + t - $(date +%s) ))
  [ "$sleep_for" -gt 0 ] && sleep "$sleep_for"
  kill -0 "$DRIVER" 2>/dev/null || { say "the load driver died: $(cat "$WORK/driver.err")"; exit 1; }
  rss=$(rss_kib "$SERVER")
  [ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss
  [ $(( t % 10 )) -eq 0 ] && RSS_SERIES="$RSS_SERIES $t:$(( rss / 1024 ))"
  [ "$t" -eq "$WARMUP" ] && RSS_START=$rss
  [ "$t" -lt "$WARMUP" ] && continue
  if [ "$t" -eq "$RESTART_AT" ] && [ -z "$RESTARTED" ]; then
    RESTARTED=1
    RSS_A_END=$rss
    k0=$(now_ms)
    kill -TERM "$SERVER"
    for _ in $(seq 200); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$SERVER" 2>/dev/null; then SHUTDOWN_KILLED=1; kill -KILL "$SERVER"; fi
    SHUTDOWN_RC=0; wait "$SERVER" || SHUTDOWN_RC=$?
    SHUTDOWN_MS=$(( $(now_ms) - k0 ))
    SERVER=
    sleep "$DOWN_SECS"
    start_server "$PORT"
    echo "restart $k0 $(now_ms)" >>"$WORK/events"
    say "restarted at ${t}s (shutdown ${SHUTDOWN_MS} ms)"
    continue
  fi
  [ $(( t % ROTATE_EVERY )) -eq 0 ] && admin rotate /_admin/keys/rotate
  [ $(( t % RESET_EVERY )) -eq 0 ] && admin reset /_admin/reset
done
touch "$WORK/events.done"
DRIVER_RC=0
wait "$DRIVER" || DRIVER_RC=$?
DRIVER=
RSS_END=$(rss_kib "$SERVER")
[ "$RSS_END" -gt "$RSS_MAX" ] && RSS_MAX=$RSS_END
RSS_A_END=${RSS_A_END:-$RSS_END}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
BOUND_KIB=$(( RSS_START + RSS_BOUND_MIB * 1024 ))
FAIL=()
[ "$DRIVER_RC" -eq 0 ] || FAIL+=("load driver verdict (exit $DRIVER_RC)")
[ "$RSS_A_END" -le "$BOUND_KIB" ] || FAIL+=("RSS of the first server grew beyond the bound")
[ "$RSS_END" -le "$BOUND_KIB" ] || FAIL+=("RSS at the end beyond the bound")
[ -z "$SHUTDOWN_KILLED" ] || FAIL+=("the server did not stop within 10 s of SIGTERM")
[ "${SHUTDOWN_RC:-0}" -eq 0 ] || FAIL+=("the server exited with status $SHUTDOWN_RC on SIGTERM")

{
  echo "mock-ehr reliability run  $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores, 127.0.0.1:$PORT"
  echo "command: mock-ehr/bench/reliability.sh --duration $DURATION --restart-at $RESTART_AT --conns $CONNS --rss-bound $RSS_BOUND_MIB ($PROFILE build)"
  echo "load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "chaos: keys rotated every ${ROTATE_EVERY} s, state reset every ${RESET_EVERY} s, from ${WARMUP} s;" \
    "restart (SIGTERM, ${DOWN_SECS} s down, same port) at ${RESTART_AT} s"
  echo
  cat "$WORK/driver.out"
  echo
  if [ -n "$RESTARTED" ]; then
    echo "shutdown on SIGTERM: ${SHUTDOWN_MS} ms, exit status ${SHUTDOWN_RC}${SHUTDOWN_KILLED:+ (KILLED after 10 s)}"
  fi
  echo "RSS (VmRSS): first server after ${WARMUP} s warm-up $(mib "$RSS_START") MiB, before the restart" \
    "$(mib "$RSS_A_END") MiB; second server at the end $(mib "$RSS_END") MiB; max $(mib "$RSS_MAX") MiB"
  echo "RSS every 10 s (s:MiB):$RSS_SERIES"
  echo "RSS bound: <= $(mib "$BOUND_KIB") MiB (warm-up + ${RSS_BOUND_MIB} MiB)"
  if [ -s "$WORK/admin.err" ]; then echo "admin call errors:"; sed 's/^/  /' "$WORK/admin.err"; fi
  echo
  if [ ${#FAIL[@]} -eq 0 ]; then
    echo "RESULT: PASS"
  else
    echo "RESULT: FAIL"
    printf '  - %s\n' "${FAIL[@]}"
  fi
} >"$WORK/report.txt"
cat "$WORK/report.txt"
if [ -n "$REPORT" ]; then cp "$WORK/report.txt" "$REPORT"; fi
[ ${#FAIL[@]} -eq 0 ]
