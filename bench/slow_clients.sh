#!/usr/bin/env bash
# /healthz and code requests while slow and idle clients hold connections (docs/BENCHMARKS.md
# "Slow and idle clients", issue #11): one data directory (SQLite), `SERVER_BIN serve --plain-http`
# on 127.0.0.1 (loopback only), then `BENCH_BIN bench slow-clients` against it twice:
#   1. SLOW connections each sending a header byte every 4 s;
#   2. IDLE kept-alive connections;
#   3. both at once.
#   bench/slow_clients.sh [SERVER_BIN] [BENCH_BIN] [SLOW] [IDLE] [SECONDS]
# SERVER_BIN may be another build's binary (e.g. main's, for the figures before a change); the
# bench is BENCH_BIN's. Prints one JSON object. Needs jq.
set -euo pipefail
server_bin=${1:-build/src/cli/anoncode}
bench_bin=${2:-build/src/cli/anoncode}
slow=${3:-1000}
idle=${4:-200}
seconds=${5:-10}
tmp=$(mktemp -d)
pid=""
trap '[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"

data=$tmp/data
token=$("$server_bin" init --data "$data" --group sm2 | jq -r .admin_token)

start() {
  "$server_bin" serve --data "$data" --listen 127.0.0.1:0 --plain-http \
    2>"$tmp/serve.log" >/dev/null &
  pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(grep -o '"url":"[^"]*"' "$tmp/serve.log" 2>/dev/null | head -n 1 | cut -d'"' -f4)
    [[ -n $url ]] && break
    sleep 0.1
  done
  [[ -n $url ]] || { echo "the server did not start" >&2; cat "$tmp/serve.log" >&2; exit 1; }
}

stop() {
  kill -TERM "$pid"
  # A server that cannot stop (its workers held by the slow clients) is killed after 20 s.
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

measure() {  # measure SLOW IDLE → one JSON object
  start
  "$bench_bin" bench slow-clients --server "$url" --token "$token" --trust-root "$data/trust_root" \
    --slow "$1" --idle "$2" --seconds "$seconds" --work-dir "$tmp/work-$1-$2"
  stop
}

slow_run=$(measure "$slow" 0)
idle_run=$(measure 0 "$idle")
both_run=$(measure "$slow" "$idle")
jq -n --argjson s "$slow_run" --argjson i "$idle_run" --argjson b "$both_run" \
  '{slow: $s, idle: $i, both: $b}'
