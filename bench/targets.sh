#!/usr/bin/env bash
# The five figures of issue #11, side by side in one run (docs/BENCHMARKS.md "The request path's
# targets, one run"): on SQLite and on a throwaway PostgreSQL (scripts/pg-throwaway), each on a
# fresh data directory with group sm2 and the server on 127.0.0.1 over TLS:
#   1. server CPU per code request / its cryptographic floor (bench flows, closed loop);
#   2. code requests at a fixed arrival rate: p50/p99/p99.9 (bench flows --rate RATE);
#   3. rides settled per second (bench flows --rides RIDES --batch 500 --uploaders U --wallets W);
#   4.–5. /healthz p99 with SLOW slow and IDLE idle connections (bench/slow_clients.sh).
#   bench/targets.sh [BIN] [RATE] [RIDES]      prints one JSON line per measurement
set -euo pipefail
bin=$(realpath "${1:-build/src/cli/anoncode}")
rate=${2:-400}
rides=${3:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/anoncode-targets.XXXXXX)
chmod 755 "$tmp"
pid=""
pg=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [[ -n $pg ]] && "$root/scripts/pg-throwaway" stop "$tmp/pg" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))

# serve KIND: a fresh data directory and server; sets $data, $url.
serve() {
  local kind=$1
  data=$tmp/data-$kind-$RANDOM
  if [[ $kind == pg ]]; then
    "$bin" init --data "$data" --db "$pg" --group sm2 >/dev/null
  else
    "$bin" init --data "$data" --group sm2 >/dev/null
  fi
  port=$((port + 1))
  "$bin" serve --data "$data" --listen "127.0.0.1:$port" 2>"$data.log" >/dev/null &
  pid=$!
  url=https://127.0.0.1:$port
  for _ in $(seq 100); do
    curl -sk "$url/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start" >&2
  exit 1
}
unserve() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}
flows() {  # flows LABEL BENCH-ARGS…
  local label=$1
  shift
  local out
  out=$("$bin" bench flows --server "$url" --ca "$data/tls_ca.pem" --token "$(cat "$data/admin_token")" \
    --trust-root "$data/trust_root" "$@")
  echo "{\"measure\":\"$label\",\"result\":$out}"
}

pg=$("$root/scripts/pg-throwaway" start "$tmp/pg" $((port - 1)))
for kind in sqlite pg; do
  serve "$kind"
  flows "$kind closed loop, 8 riders, 5 s" --riders 8 --seconds 5 --rides 100
  unserve
  serve "$kind"
  flows "$kind open loop, $rate/s for 10 s" --rate "$rate" --seconds 10 --rides 100
  unserve
  serve "$kind"
  flows "$kind settlement, $rides rides" --riders 8 --seconds 1 --rides "$rides" --batch 500 \
    --uploaders 2 ${WALLETS:+--wallets "$WALLETS"}
  unserve
done
echo "{\"measure\":\"slow and idle clients\",\"result\":$("$root/bench/slow_clients.sh" "$bin" "$bin" 1000 200 10)}"
