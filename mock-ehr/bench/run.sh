#!/usr/bin/env bash
# Loopback benchmark of the mock EHR (a benchmark, not a test). Bounded in time: about
# 3 minutes after the release build (DURATION seconds per load point, 10 by default).
#
#   mock-ehr/bench/run.sh                 # DURATION=10 WRK_THREADS=2 WRK_CONNECTIONS=16
#
# Installs wrk (Debian) when missing, builds the release binary and the examples, then
# measures on 127.0.0.1 only:
#   - ready time (process start to the first 200 of discovery; median of 5 starts),
#     RSS after start and after the load (VmRSS of /proc/PID/status);
#   - req/s of: discovery GET; authorization-code exchange without and with `openid`
#     (codes made just before by the auto-approve flow, each used once);
#     client_credentials with RS384 and ES384 assertions (pre-signed, each jti used
#     once); introspection;
#   - the CPU the server used during each point (utime+stime of /proc/PID/stat), hence
#     req/s per core used, and that as a percentage of the raw rate of the core doing
#     the same cryptographic work on one core (examples/crypto_rate.rs);
#   - the ratios to the figures of the Node mock EHR most teams use (issue 6).
# The machine's load average is printed with the results: a shared, loaded machine
# gives lower figures than an idle one.
set -euo pipefail
cd "$(dirname "$0")/../.."
BENCH_DIR=$(pwd)/mock-ehr/bench
export BENCH_DIR
DURATION=${DURATION:-10}
THREADS=${WRK_THREADS:-2}
CONNS=${WRK_CONNECTIONS:-16}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d /tmp/mock-ehr-bench.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

missing=()
for tool in wrk jq curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian)"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
say "building (release)"
cargo build --release -q -p mock-ehr --bins --examples
# Copied at once: the target directory may be shared with other builds.
mkdir -p "$WORK/bin"
cp "$TARGET_DIR/release/mock-ehr" "$TARGET_DIR/release/examples/crypto_rate" \
  "$TARGET_DIR/release/examples/backend_assertion" "$WORK/bin/"
BIN=$WORK/bin/mock-ehr
EX=$WORK/bin
TCK=$(getconf CLK_TCK)

now_ns() { date +%s%N; }
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; } # user, system
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

start_server() { # sets PID, BASE and READY (ms from process start to the first 200)
  local t0
  : >"$WORK/stdout"
  t0=$(now_ns)
  "$BIN" --port 0 --auto-approve --log-format json >"$WORK/stdout" 2>"$WORK/stderr" &
  PID=$!
  BASE=
  until [ -n "$BASE" ]; do # the first stdout line is the base URL
    IFS= read -r BASE <"$WORK/stdout" || BASE= # a bash builtin: no process per try
    kill -0 "$PID" 2>/dev/null || { say "mock-ehr died: $(cat "$WORK/stderr")"; exit 1; }
  done
  until curl -fs -o /dev/null "$BASE/fhir/.well-known/smart-configuration"; do
    kill -0 "$PID" 2>/dev/null || { say "mock-ehr died: $(cat "$WORK/stderr")"; exit 1; }
  done
  READY=$(( ($(now_ns) - t0) / 1000000 ))
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

# --- ready time and idle RSS ----------------------------------------------------------
readies=()
for _ in 1 2 3 4 5; do
  start_server
  readies+=("$READY")
  stop_server
done
READY_MS=$(printf '%s\n' "${readies[@]}" | sort -n | sed -n 3p)
READY_ALL=${readies[*]}
start_server
sleep 1
RSS_IDLE=$(rss_kib "$PID")

# --- the core's raw rate, one core, while the server is idle --------------------------
say "raw rate of the core (one core)"
"$EX/crypto_rate" --secs 3 >"$WORK/raw.jsonl"
raw() { jq -r --arg p "$1" 'select(.path == $p) | .ops_per_sec' "$WORK/raw.jsonl"; }

# --- clients, assertions, codes, a token --------------------------------------------------
"$EX/backend_assertion" jwks --key mock-ehr/tests/keys/client-rsa2048.pk8 --alg RS384 --kid bench-rsa >"$WORK/rsa.jwks"
"$EX/backend_assertion" keygen --alg ES384 --kid bench-ec --out "$WORK/ec.pk8" >"$WORK/ec.jwks"
register() { # JWKS file -> client_id
  jq -n --slurpfile jwks "$1" '{token_endpoint_auth_method: "private_key_jwt", jwks: $jwks[0], scope: "system/*.rs"}' |
    curl -fs "$BASE/register" -H 'content-type: application/json' -d @- | jq -r .client_id
}
RSA_CLIENT=$(register "$WORK/rsa.jwks")
EC_CLIENT=$(register "$WORK/ec.jwks")

VERIFIER=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
CHALLENGE=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM # BASE64URL(SHA-256(VERIFIER)), RFC 7636 appendix B
REDIRECT=http%3A%2F%2Flocalhost%3A3000%2Fcallback
authorize_url() { # scope (URL-encoded)
  echo "$BASE/authorize?response_type=code&client_id=demo-app&redirect_uri=$REDIRECT&scope=$1&state=s&aud=$BASE%2Ffhir&code_challenge=$CHALLENGE&code_challenge_method=S256"
}
EXCHANGE_PREFIX="grant_type=authorization_code&redirect_uri=$REDIRECT&code_verifier=$VERIFIER&client_id=demo-app&code="
CC_PREFIX="grant_type=client_credentials&scope=system%2F*.rs&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="

# --- load points ----------------------------------------------------------------------------
RESULTS=$WORK/results.tsv
: >"$RESULTS"
run_point() { # name seconds wrk-args...
  local name=$1 secs=$2 u0 s0 u1 s1 line
  shift 2
  read -r u0 s0 < <(cpu_ticks "$PID")
  line=$(wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --latency "$@" | grep '^RESULT ' | cut -d' ' -f2-)
  read -r u1 s1 < <(cpu_ticks "$PID")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$line" "$(( u1 - u0 ))" "$(( s1 - s0 ))" "$(load1)" >>"$RESULTS"
  say "$name: $(jq -r '"\(.requests) requests, \(.non2xx) non-2xx"' <<<"$line")"
}

say "load points, ${DURATION}s each"
run_point discovery "$DURATION" -s "$BENCH_DIR/get.lua" "$BASE/fhir/.well-known/smart-configuration"

# Codes live 60 s: make them right before each exchange run, about as many as the
# exchange can use (authorize runs about twice as fast; left-over codes expire).
run_point authorize "$(( DURATION * 7 / 10 + 1 ))" -s "$BENCH_DIR/collect_codes.lua" \
  "$(authorize_url 'launch%2Fpatient%20patient%2F*.rs')" -- "$WORK/codes"
cat "$WORK"/codes.* >"$WORK/codes.txt"
run_point code "$DURATION" -s "$BENCH_DIR/post_lines.lua" "$BASE/token" -- \
  "$WORK/codes.txt" "$EXCHANGE_PREFIX" "" "$THREADS"

run_point authorize_openid "$(( DURATION / 5 + 1 ))" -s "$BENCH_DIR/collect_codes.lua" \
  "$(authorize_url 'openid%20fhirUser%20launch%2Fpatient%20patient%2F*.rs')" -- "$WORK/ocodes"
cat "$WORK"/ocodes.* >"$WORK/ocodes.txt"
run_point code_openid "$DURATION" -s "$BENCH_DIR/post_lines.lua" "$BASE/token" -- \
  "$WORK/ocodes.txt" "$EXCHANGE_PREFIX" "" "$THREADS"

# Assertions: more than the server can take in DURATION seconds (jti single-use),
# sized from the raw one-core rate: RS384 requests cost the server far more than the
# RSA verification alone, ES384 ones little more (a shortfall shows as non-2xx).
say "signing client assertions"
N_RSA=$(awk -v r="$(raw cc_rs384)" -v d="$DURATION" 'BEGIN { printf "%d", r * d * 0.8 + 1000 }')
N_EC=$(awk -v r="$(raw cc_es384)" -v d="$DURATION" 'BEGIN { printf "%d", r * d * 1.8 + 1000 }')
"$EX/backend_assertion" sign --client-id "$RSA_CLIENT" --key mock-ehr/tests/keys/client-rsa2048.pk8 \
  --alg RS384 --kid bench-rsa --aud "$BASE/token" --count "$N_RSA" >"$WORK/rsa.txt"
"$EX/backend_assertion" sign --client-id "$EC_CLIENT" --key "$WORK/ec.pk8" \
  --alg ES384 --kid bench-ec --aud "$BASE/token" --count "$N_EC" >"$WORK/ec.txt"
run_point cc_rs384 "$DURATION" -s "$BENCH_DIR/post_lines.lua" "$BASE/token" -- \
  "$WORK/rsa.txt" "$CC_PREFIX" "" "$THREADS"
run_point cc_es384 "$DURATION" -s "$BENCH_DIR/post_lines.lua" "$BASE/token" -- \
  "$WORK/ec.txt" "$CC_PREFIX" "" "$THREADS"

code=$(curl -fs -o /dev/null -w '%{redirect_url}' "$(authorize_url 'launch%2Fpatient%20patient%2F*.rs')" | sed 's/.*[?&]code=\([^&]*\).*/\1/')
TOKEN=$(curl -fs "$BASE/token" -d "$EXCHANGE_PREFIX$code" | jq -r .access_token)
run_point introspect "$DURATION" -s "$BENCH_DIR/post_fixed.lua" "$BASE/introspect" -- \
  "token=$TOKEN" "Basic $(printf 'demo-confidential:demo-secret' | base64 -w0)"

RSS_LOADED=$(rss_kib "$PID")

# --- the table --------------------------------------------------------------------------------
echo
echo "mock-ehr benchmark  $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores  wrk -t$THREADS -c$CONNS, ${DURATION}s per point"
echo "load average at start of report: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ready: ${READY_MS} ms (median of 5: ${READY_ALL})   goal < 100 ms, Node mock ~2000 ms"
echo "RSS: $(( RSS_IDLE / 1024 )) MiB idle (goal <= 32 MiB, Node mock 156 MiB), $(( RSS_LOADED / 1024 )) MiB after the load"
echo
printf '%-17s %8s %6s %7s %6s %5s %10s %7s %8s %6s %6s\n' point 'req/s' 'non2xx' 'p99 ms' 'cores' 'sys' 'req/s/core' 'raw/s' '% of raw' 'Node' 'x Node'
while IFS=$'\t' read -r name json uticks sticks load; do
  reqs=$(jq .requests <<<"$json"); us=$(jq .duration_us <<<"$json"); bad=$(jq .non2xx <<<"$json")
  p99=$(jq .p99_us <<<"$json")
  case $name in
    discovery) node=5600; rawp= ;;
    code) node=; rawp=code ;;
    code_openid) node=590; rawp=code_openid ;;
    cc_rs384) node=1760; rawp=cc_rs384 ;;
    cc_es384) node=; rawp=cc_es384 ;;
    introspect) node=; rawp=introspect ;;
    *) node=; rawp= ;;
  esac
  raw_rate=${rawp:+$(raw "$rawp")}
  awk -v n="$name" -v r="$reqs" -v us="$us" -v bad="$bad" -v p99="$p99" -v ut="$uticks" \
      -v st="$sticks" -v tck="$TCK" -v raw="$raw_rate" -v node="$node" -v load="$load" 'BEGIN {
    s = us / 1e6; rps = (r - bad) / s; t = ut + st; cores = (t / tck) / s;
    sys = t > 0 ? sprintf("%.0f%%", 100 * st / t) : "-";
    per = cores > 0 ? rps / cores : 0;
    pct = raw != "" ? sprintf("%.0f%%", 100 * per / raw) : "-";
    xn = node != "" ? sprintf("%.1fx", rps / node) : "-";
    printf "%-17s %8.0f %6d %7.1f %6.2f %5s %10.0f %7s %8s %6s %6s  (load %s)\n",
      n, rps, bad, p99 / 1000, cores, sys, per, (raw != "" ? sprintf("%.0f", raw) : "-"), pct,
      (node != "" ? node : "-"), xn, load }'
done <"$RESULTS"
echo
echo "goals: ready < 100 ms; <= 32 MiB idle; >= 3x Node (discovery 16,800, code+id_token 1,770,"
echo "client_credentials RS384 5,280 req/s); each token path >= 60% of the raw rate per core used."
echo "cores = server CPU (user + system) / wall time; sys = its share in the kernel; raw = the"
echo "core's one-core rate for the same cryptographic work, per CPU second (examples/crypto_rate.rs):"
echo "  $(jq -c '{(.path): .ops_per_sec}' "$WORK/raw.jsonl" | jq -s -c add)"
