#!/usr/bin/env bash
# What TLS costs the server (docs/BENCHMARKS.md "TLS on every hop"), measured from the server
# process itself (utime + stime from /proc/PID/stat) in one run, plain HTTP and HTTPS on the same
# data directory, one after the other:
#   1. code requests through the real SDK (`anoncode bench flows`, keep-alive connections): server
#      CPU per code request;
#   2. new connections, one request each (`curl` GET /healthz, a fresh TCP — and TLS — handshake
#      per request, as a POS upload makes): server CPU per connection.
#   bench/tls_cost.sh [ANONCODE_BIN] [SECONDS] [CONNECTIONS]
# Prints one JSON object. Needs curl and jq. The server listens on 127.0.0.1 only.
set -euo pipefail
bin=${1:-build/src/cli/anoncode}
seconds=${2:-10}
connections=${3:-300}
tmp=$(mktemp -d)
pid=""
trap '[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

data=$tmp/data
token=$("$bin" init --data "$data" --group sm2 | jq -r .admin_token)
clk=$(getconf CLK_TCK)

cpu_seconds() {  # utime + stime of PID, in seconds
  awk -v t="$clk" '{print ($14 + $15) / t}' "/proc/$1/stat"
}

start() {  # start [--plain-http]: sets pid and url
  "$bin" serve --data "$data" --listen 127.0.0.1:0 "$@" 2>"$tmp/serve.log" >/dev/null &
  pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(jq -r 'select(.event == "listening") | .url' "$tmp/serve.log" 2>/dev/null | head -n 1)
    [[ -n $url ]] && break
    sleep 0.1
  done
  [[ -n $url ]] || { echo "the server did not start" >&2; cat "$tmp/serve.log" >&2; exit 1; }
}

stop() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
}

measure() {  # measure NAME [--plain-http] → one JSON object
  local name=$1
  shift
  start "$@"
  local before after flows n t0 t1 i
  before=$(cpu_seconds "$pid")
  flows=$("$bin" bench flows --server "$url" --ca "$data/tls_ca.pem" --token "$token" \
    --trust-root "$data/trust_root" --riders 4 --seconds "$seconds" --rides 500 \
    --work-dir "$tmp/work-$name")
  after=$(cpu_seconds "$pid")
  n=$(jq .code_requests <<<"$flows")
  # The flows also open riders and settle rides: their cost is in the total, the same for both.
  t0=$(cpu_seconds "$pid")
  for ((i = 0; i < connections; i++)); do
    curl -s --cacert "$data/tls_ca.pem" -o /dev/null "$url/healthz"
  done
  t1=$(cpu_seconds "$pid")
  stop
  jq -n --arg name "$name" --argjson flows "$flows" --arg cpu "$(awk -v a="$before" -v b="$after" 'BEGIN{print b - a}')" \
    --arg conn "$(awk -v a="$t0" -v b="$t1" -v n="$connections" 'BEGIN{print (b - a) / n * 1e6}')" \
    '{($name): {code_requests: $flows.code_requests, code_requests_per_s: $flows.code_requests_per_s,
       code_p50_ms: $flows.code_p50_ms, code_p99_ms: $flows.code_p99_ms,
       server_cpu_s: ($cpu | tonumber),
       server_cpu_us_per_code_request: (($cpu | tonumber) / $flows.code_requests * 1e6),
       server_cpu_us_per_new_connection: ($conn | tonumber)}}'
}

plain=$(measure plain --plain-http)
tls=$(measure tls)
jq -n --argjson p "$plain" --argjson t "$tls" --arg s "$seconds" --arg c "$connections" '
  $p + $t + {seconds: ($s | tonumber), connections: ($c | tonumber),
   tls_over_plain_per_code_request: ($t.tls.server_cpu_us_per_code_request / $p.plain.server_cpu_us_per_code_request),
   tls_over_plain_per_new_connection: ($t.tls.server_cpu_us_per_new_connection / $p.plain.server_cpu_us_per_new_connection)}'
