#!/usr/bin/env bash
# The command-line contract (DESIGN §6), through the real binary: one JSON object on stdout,
# exit 0 on success; non-zero and {"error":{"code","message"}} on failure.
set -uo pipefail
bin=$1
fail=0
check() {  # check NAME CONDITION-OUTPUT
  if [[ $2 == true ]]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}

out=$("$bin" bench crypto --group sm2 --batch-seconds 0.001); rc=$?
check "bench crypto exits 0" "$([[ $rc -eq 0 ]] && echo true)"
check "bench crypto prints every figure" "$(jq -e '.group == "sm2" and (
  [.scalar_mult_us, .fixed_base_mult_us, .point_add_us, .client_show_us, .server_verify_issue_us,
   .sm2_sign_us, .sm2_verify_us, .sm2_sign_openssl_us, .sm2_verify_openssl_us, .sm3_mb_s,
   .sm4_mb_s] | all(. > 0))' <<<"$out")"

out=$("$bin" bench crypto --group sm2-openssl --batch-seconds 0.001); rc=$?
check "bench crypto on the OpenSSL SM2 reference group" "$([[ $rc -eq 0 ]] && jq -e '.group == "sm2-openssl" and .server_verify_issue_us > 0' <<<"$out")"

out=$("$bin" bench crypto --group p256); rc=$?
check "unknown group fails" "$([[ $rc -ne 0 ]] && echo true)"
check "unknown group is invalid_argument" "$(jq -e '.error.code == "invalid_argument" and (.error.message | length > 0)' <<<"$out")"

out=$("$bin" no-such-command); rc=$?
check "unknown command fails with a JSON error" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

out=$("$bin" bench crypto --batch-seconds -1); rc=$?
check "out-of-range option fails with a JSON error" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

out=$("$bin" pos --store /nonexistent/x.pos --terminal T1 --merchant M1 scan --amount 100); rc=$?
check "pos scan without --payload or --image is a usage error" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

out=$("$bin" pos --store x.pos --terminal T1 --merchant M1 scan --payload AA --image x.png --amount 1); rc=$?
check "pos scan with both --payload and --image is a usage error" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

out=$("$bin" pos --terminal T1 --merchant M1 upload); rc=$?
check "pos without --store is a usage error" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

exit $fail
