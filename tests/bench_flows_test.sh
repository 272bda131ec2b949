#!/usr/bin/env bash
# `anoncode bench flows` against a real server (docs/BENCHMARKS.md): the closed loop briefly, then
# the open loop (--rate) at a low rate that any build keeps up with — every scheduled request
# answered, the latency percentiles in order, the achieved rate near the requested one, the
# server's CPU per code request beside the cryptographic floor, and the rides settled from the
# codes it produced. Needs bash and jq.
set -uo pipefail
bin=$1
source "$(dirname "$0")/lib.sh"

data=$tmp/data
"$bin" init --data "$data" --group sm2 >/dev/null
if ! start_server "$tmp/serve.log" --data "$data" --listen 127.0.0.1:0; then
  echo "FAIL the server did not start; its log:"; cat "$tmp/serve.log"; exit 1
fi
bench() {
  "$bin" bench flows --server "$url" --ca "$ca" --token "$(cat "$data/admin_token")" \
    --trust-root "$data/trust_root" --work-dir "$tmp/bench" "$@"
}

# --- closed loop ---
out=$(bench --riders 2 --seconds 1 --rides 10); rc=$?
check "closed loop exits 0" "$([[ $rc -eq 0 ]] && echo true)"
check "closed loop: code requests, p50 <= p99, rides settled, no open_loop" "$(jq -e '
  .riders == 2 and .code_requests > 0 and .code_requests_per_s > 0
  and 0 < .code_p50_ms and .code_p50_ms <= .code_p99_ms and .rides_settled == 10
  and (has("open_loop") | not)' <<<"$out")"

# --- open loop: 20 code requests per second for 2 s ---
out=$(bench --rate 20 --seconds 2 --riders 4 --rides 30); rc=$?
check "open loop exits 0" "$([[ $rc -eq 0 ]] && echo true)"
check "open loop: 40 scheduled, every one answered" "$(jq -e '.open_loop |
  .rate == 20 and .seconds == 2 and .scheduled == 40 and .completed == 40 and .failed == 0' <<<"$out")"
check "open loop: 0 < p50 <= p99 <= p99.9 <= max" "$(jq -e '.open_loop |
  0 < .p50_ms and .p50_ms <= .p99_ms and .p99_ms <= .p999_ms and .p999_ms <= .max_ms' <<<"$out")"
check "open loop: achieved within a factor 2 of 20/s; late starts counted" "$(jq -e '.open_loop |
  10 <= .achieved_per_s and .achieved_per_s <= 40 and 0 <= .late_starts and .late_starts <= .scheduled' <<<"$out")"
check "open loop replaces the closed loop's figures; the riders are the pool" "$(jq -e '
  .riders == 4 and (has("code_requests") or has("code_p50_ms") | not)' <<<"$out")"
check "open loop: the server's CPU per code request beside the floor" "$(jq -e '
  .server_cpu_per_code_us > 0 and .code_crypto_floor.floor_us > 0 and .server_cpu_over_floor > 0' <<<"$out")"
check "open loop: the rides are settled from its codes" "$(jq -e '.rides_settled == 30' <<<"$out")"

# --- the rate is checked before anything is sent ---
for rate in 0 -5 100001 abc; do
  out=$(bench --rate "$rate"); rc=$?
  check "--rate $rate is a usage error naming the bounds" "$([[ $rc -eq 2 ]] && jq -e '
    .error.code == "invalid_argument" and (.error.message | test("--rate must be > 0 and <= 100000"))' <<<"$out")"
done

exit $fail
