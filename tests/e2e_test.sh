#!/usr/bin/env bash
# A rider's whole journey through the real binary, read as steps (DESIGN §2, §6):
#   tests/e2e_test.sh ANONCODE_BIN C_ABI_TEST_BIN
# open → recharge → code → query → backup (the wallet is disabled) → wrong passphrase (the
# backup survives) → restore → a second restore finds nothing (the same answer as a wrong
# passphrase, DESIGN §3.6 rule 6) → refund (too much, someone else's
# identity, then right) → close with a balance refused → refund the rest → close; a second
# rider through the SDK's C ABI; rides through two POS terminals (QR image, offline checks,
# forged/truncated/expired codes, a copied code, a replayed upload, unknown terminals); and a
# cloned wallet caught and traced. The server runs on SQLite, or on PostgreSQL when
# ANONCODE_TEST_PG_URL is set (in a fresh schema); ANONCODE_E2E_GROUP picks the credential group
# (default: init's default, ristretto255).
set -uo pipefail
bin=$1
c_abi=$2
source "$(dirname "$0")/lib.sh"

data=$tmp/data
db_args=()
if [[ -n ${ANONCODE_TEST_PG_URL:-} ]]; then
  schema="e2e_$$_$RANDOM"
  psql -q "$ANONCODE_TEST_PG_URL" -c "CREATE SCHEMA $schema" >/dev/null
  sep='?'
  [[ $ANONCODE_TEST_PG_URL == *\?* ]] && sep='&'
  db_args=(--db "${ANONCODE_TEST_PG_URL}${sep}options=-csearch_path%3D${schema}")
  echo "on PostgreSQL, schema $schema"
fi
[[ -n ${ANONCODE_E2E_GROUP:-} ]] && db_args+=(--group "$ANONCODE_E2E_GROUP")
token=$("$bin" init --data "$data" "${db_args[@]}" | jq -r .admin_token)
# Codes live 3 s here instead of 120 s, and their rides may be uploaded for 60 s more instead of
# 3 days (long enough for the slowest run, under the sanitizers); a refund keeps the maximum fare
# (500 fen here) back for every code that may still be uploaded.
sed -i -e 's/^code_validity_seconds = .*/code_validity_seconds = 3/' \
  -e 's/^upload_window_seconds = .*/upload_window_seconds = 60/' \
  -e 's/^max_fare_fen = .*/max_fare_fen = 500/' "$data/config.toml"
start_server "$tmp/serve.log" --data "$data" --listen 127.0.0.1:0 || {
  echo "FAIL the server did not start"; cat "$tmp/serve.log"; exit 1; }
# Every client below reaches the server over TLS and verifies it against the operator CA.
check "the server speaks https" "$([[ $url == https://127.0.0.1:* ]] && echo true)"
export ANONCODE_CA=$ca
admin() { "$bin" admin --server "$url" --token "$token" "$@"; }
wallet() { "$bin" wallet --server "$url" --state "$tmp/$1.json" --trust-root "$data/trust_root" "${@:2}"; }

# The issuer keys are published as a set signed by the operator's root key (DESIGN §3.6 rule 4);
# the audit checks the whole history with the root public key alone.
out=$(admin keys audit --trust-root "$data/trust_root")
check "the published issuer key sets verify against the trust root" "$(jq -e '.verified == true and .keysets == 1 and .latest_sequence == 1' <<<"$out")"
other_root=$("$bin" init --data "$tmp/other-data" | jq -r .trust_root)
out=$(admin keys audit --trust-root "$other_root"); rc=$?
check "another root does not verify them" "$([[ $rc -ne 0 ]] && jq -e '.verified == false and .error.code == "verification_failed"' <<<"$out")"
mv "$data/root_key.pem" "$tmp/root_key.pem.away"
out=$(timeout 20 "$bin" serve --data "$data" --listen 127.0.0.1:0 2>/dev/null); rc=$?
mv "$tmp/root_key.pem.away" "$data/root_key.pem"
check "serve refuses to make a second root once key sets were published" "$([[ $rc -ne 0 && $rc -ne 124 ]] && jq -e '.error.code == "conflict"' <<<"$out")"
out=$("$bin" wallet --server "$url" --state "$tmp/rootless.json" open --user-id nobody --app-token x)
check "a wallet without a trust root refuses to fetch issuer keys" "$(jq -e '.error.code == "invalid_argument"' <<<"$out")"

# Alice is registered by the operator and whitelisted.
app_token=$(admin user add --user-id alice --name "李雷" --id-number 110105199001011234 \
  --phone 13900001111 --card-no 3104000000000001 | jq -r .app_token)
admin whitelist add alice >/dev/null

out=$(wallet alice open --user-id alice --app-token "$app_token")
check "open" "$(jq -e '.status == "opened"' <<<"$out")"
out=$(wallet alice open --user-id alice --app-token "$app_token")
check "a second open of the same wallet is a conflict" "$(jq -e '.error.code == "conflict"' <<<"$out")"

out=$(wallet alice recharge --amount 1000)
check "recharge 1000 fen" "$(jq -e '.balance == 1000 and (.wallet | length == 24) and (.accountid | test("^[0-9]{19}$"))' <<<"$out")"
accountid=$(jq -r .accountid <<<"$out")
out=$(wallet alice recharge --amount 0)
check "a zero recharge is invalid_argument" "$(jq -e '.error.code == "invalid_argument"' <<<"$out")"
out=$(wallet alice recharge --amount 500)
check "a second recharge carries the balance on the same accountid" "$(jq -e --arg a "$accountid" '.balance == 1500 and .accountid == $a' <<<"$out")"

out=$(wallet alice code)
check "code: a signed payload with an nm sequence" "$(jq -e --arg a "$accountid" '(.payload | length > 100) and (.sequence | test("^nm[0-9]{14}$")) and .accountid == $a and .expires_at > 0' <<<"$out")"

out=$(wallet alice history --type recharge)
check "history lists both recharges" "$(jq -e '(.records | length) == 2' <<<"$out")"
out=$(wallet alice balance)
check "balance" "$(jq -e '.balance == 1500' <<<"$out")"

# Backup disables the local wallet; a wrong passphrase leaves the backup in place.
out=$(wallet alice backup --phone 13900001111 --passphrase "correct horse")
check "backup" "$(jq -e '.status == "backed_up"' <<<"$out")"
out=$(wallet alice code)
check "the backed-up wallet is disabled" "$(jq -e '.error.code == "conflict"' <<<"$out")"
out=$(wallet phone2 restore --phone 13900001111 --passphrase "wrong horse")
check "restore with a wrong passphrase is refused" "$(jq -e '.error.code == "verification_failed"' <<<"$out")"
out=$(wallet phone2 restore --phone 13900001111 --passphrase "correct horse")
check "restore on a new phone" "$(jq -e '.status == "restored"' <<<"$out")"
out=$(wallet phone3 restore --phone 13900001111 --passphrase "correct horse")
check "a second restore finds nothing (answered as a wrong passphrase)" \
  "$(jq -e '.error.code == "verification_failed"' <<<"$out")"
out=$(wallet phone2 balance)
check "the restored wallet works and kept its balance" "$(jq -e '.balance == 1500' <<<"$out")"

# Refund: keeping a reserve for codes that may still be uploaded, not more than the balance,
# only as oneself.
wallet phone2 code >/dev/null
out=$(wallet phone2 refund --amount 600 --name "李雷" --id-number 110105199001011234 --bank-account 6222000011112222)
check "refund keeps the maximum fare back for each code that may still be uploaded" "$(jq -e '.error.code == "insufficient_balance" and (.error.message | test("2 ride code"))' <<<"$out")"
out=$(wallet phone2 refund --amount 999999 --name "李雷" --id-number 110105199001011234 --bank-account 6222000011112222)
check "refund above the balance is insufficient_balance" "$(jq -e '.error.code == "insufficient_balance"' <<<"$out")"
bob_token=$(admin user add --user-id bob --name "韩梅梅" --id-number 110105199202022345 \
  --phone 13900002222 --card-no 3104000000000002 | jq -r .app_token)
admin whitelist add bob >/dev/null
wallet bob open --user-id bob --app-token "$bob_token" >/dev/null
out=$(wallet phone2 refund --amount 100 --name "无名" --id-number 000000000000000000 --bank-account 6222000011112222)
check "refund naming nobody registered is refused without saying so" "$(jq -e '.error.code == "verification_failed"' <<<"$out")"
out=$(wallet phone2 refund --amount 100 --name "韩梅梅" --id-number 110105199202022345 --bank-account 6222000011112222)
check "refund under someone else's identity is refused" "$(jq -e '.error.code == "verification_failed"' <<<"$out")"
out=$(wallet phone2 refund --amount 400 --name "李雷" --id-number 110105199001011234 --bank-account 6222000011112222)
check "refund 400 (the balance less the reserve allows it)" "$(jq -e '.refunded == 400 and .balance == 1100' <<<"$out")"
out=$(wallet phone2 close)
check "close with a balance is refused" "$(jq -e '.error.code == "conflict"' <<<"$out")"
out=$(wallet phone2 refund --amount 1100 --name "李雷" --id-number 110105199001011234 --bank-account 6222000011112222)
check "the rest is kept back while its codes may still be uploaded" "$(jq -e '.error.code == "insufficient_balance"' <<<"$out")"
# Bob never requested a code: nothing is kept back, he refunds everything and closes.
wallet bob recharge --amount 700 >/dev/null
out=$(wallet bob refund --amount 700 --name "韩梅梅" --id-number 110105199202022345 --bank-account 6222000011113333)
check "refund the rest" "$(jq -e '.refunded == 700 and .balance == 0' <<<"$out")"
out=$(wallet bob close)
check "close" "$(jq -e '.status == "closed"' <<<"$out")"

# A second rider through the C ABI (open → recharge → code).
carol_token=$(admin user add --user-id carol --name "王芳" --id-number 110105198503033456 \
  --phone 13900003333 --card-no 3104000000000003 | jq -r .app_token)
admin whitelist add carol >/dev/null
"$c_abi" "$url" "$ca" "$tmp/carol.json" carol "$carol_token" "$(cat "$data/trust_root")"
check "the C ABI program passed" "$([[ $? -eq 0 ]] && echo true)"

# Dave rides: his code is shown as a QR image, scanned offline by two POS terminals (the second
# scan is a copy of the code), and the rides are uploaded and settled exactly once.
dave_token=$(admin user add --user-id dave --name "赵强" --id-number 110105197704044567 \
  --phone 13900004444 --card-no 3104000000000004 | jq -r .app_token)
admin whitelist add dave >/dev/null
wallet dave open --user-id dave --app-token "$dave_token" >/dev/null
wallet dave recharge --amount 1000 >/dev/null
pos() { "$bin" pos --server "$url" --store "$tmp/$1.pos" --terminal "$1" --merchant M100 "${@:2}"; }
key1=$(admin terminal add --terminal T1 --merchant M100 | jq -r .terminal_key)
key2=$(admin terminal add --terminal T2 --merchant M100 | jq -r .terminal_key)
out=$(pos T1 scan --payload AAAA --amount 200)
check "a POS without a store cannot scan" "$(jq -e '.error.code != null' <<<"$out")"
out=$(pos T1 sync --terminal-key "$key1")
check "POS sync downloads the platform key" "$(jq -e '(.keys | length) >= 1' <<<"$out")"
pos T2 sync --terminal-key "$key2" >/dev/null
out=$(wallet dave code --png "$tmp/dave.png")
check "code --png writes the QR image" "$(jq -e '.png != null' <<<"$out" >/dev/null && [[ -s $tmp/dave.png ]] && echo true)"
payload=$(jq -r .payload <<<"$out")
out=$(pos T1 scan --image "$tmp/dave.png" --amount 0)
check "a zero fare is refused" "$(jq -e '.accepted == false and .error.code == "invalid_argument"' <<<"$out")"
out=$(pos T1 scan --image "$tmp/dave.png" --amount 200)
check "the POS accepts the code from its image, offline" "$(jq -e '.accepted == true and .reason == "" and .counter == 1' <<<"$out")"
out=$(pos T1 scan --image "$tmp/dave.png" --amount 200)
check "the same code twice at one POS is a duplicate" "$(jq -e '.accepted == false and .reason == "duplicate"' <<<"$out")"
forged=$(python3 -c 'import base64,sys; p=bytearray(base64.urlsafe_b64decode(sys.argv[1]+"==")); p[30]^=1; print(base64.urlsafe_b64encode(bytes(p)).decode().rstrip("="))' "$payload")
out=$(pos T2 scan --payload "$forged" --amount 200)
check "a forged code is bad_signature" "$(jq -e '.accepted == false and .error.code == "bad_signature"' <<<"$out")"
out=$(pos T2 scan --payload "${payload:0:60}" --amount 200)
check "a truncated code is malformed" "$(jq -e '.accepted == false and .error.code == "malformed"' <<<"$out")"
out=$(pos T2 --now "$(( $(date +%s) * 1000 + 3600000 ))" scan --payload "$payload" --amount 200)
check "an expired code is refused" "$(jq -e '.accepted == false and .error.code == "expired"' <<<"$out")"
out=$(pos T2 scan --payload "$payload" --amount 200)
check "a copy of the code at a second POS is accepted offline" "$(jq -e '.accepted == true' <<<"$out")"
cp "$tmp/T1.pos" "$tmp/T1.before-upload"
out=$(pos T1 upload)
check "upload settles the ride" "$(jq -e '.uploaded == 1 and .duplicates == 0 and .queued == 0' <<<"$out")"
cp "$tmp/T1.before-upload" "$tmp/T1.pos"
out=$(pos T1 upload)
check "a replayed upload changes nothing" "$(jq -e '.uploaded == 0 and .duplicates == 1' <<<"$out")"
out=$(pos T2 upload)
check "the copied code is deducted too (copy risk, logged)" "$(jq -e '.uploaded == 1' <<<"$out")"
out=$(wallet dave balance)
check "two rides of 200 fen were deducted once each" "$(jq -e '.balance == 600' <<<"$out")"
out=$(wallet dave history --type ride)
check "the ride history lists both rides" "$(jq -e '(.records | length) == 2' <<<"$out")"
out=$("$bin" pos --server "$url" --store "$tmp/T9.pos" --terminal T9 --merchant M100 sync --terminal-key "$key1")
check "an unregistered terminal is refused" "$(jq -e '.error.code == "unauthorized"' <<<"$out")"
out=$("$bin" pos --server "$url" --store "$tmp/T2bad.pos" --terminal T2 --merchant M100 sync --terminal-key "$key1")
check "a terminal with the wrong key is refused" "$(jq -e '.error.code == "verification_failed"' <<<"$out")"

# Nobody cloned a wallet; the copied code is on record as a copy risk (no user: a code names none).
out=$(admin violations)
check "no clones; the copied code is logged" "$(jq -e '([.violations[] | select(.kind == "clone")] | length) == 0 and ([.violations[] | select(.kind == "copy")] | length) == 1' <<<"$out")"

# Dave clones his wallet onto a second phone: the copy's first use is caught, traced to Dave, and
# the administrator sees his wallets and rides; Alice is untouched.
cp "$tmp/dave.json" "$tmp/dave-clone.json"
out=$(wallet dave code)
check "the original wallet still works" "$(jq -e '.sequence != null' <<<"$out")"
out=$(wallet dave-clone code)
check "the clone is refused as sn_reused" "$(jq -e '.error.code == "sn_reused"' <<<"$out")"
out=$(admin violations)
check "the clone violation names dave" "$(jq -e '[.violations[] | select(.kind == "clone")] | length == 1 and .[0].user_id == "dave"' <<<"$out")"
out=$(admin trace --user-id dave)
check "trace shows dave's wallet and his rides" "$(jq -e '(.wallets | length) >= 1 and ([.transactions[] | select(.kind == "ride")] | length) == 2' <<<"$out")"
out=$(admin trace --user-id alice)
check "trace of an honest rider is empty" "$(jq -e '(.wallets | length) == 0 and (.transactions | length) == 0' <<<"$out")"
out=$("$bin" admin --server "$url" --token wrong trace --user-id dave)
check "trace needs the admin token" "$(jq -e '.error.code == "unauthorized"' <<<"$out")"

# The console (后管): a security officer logs in and decrypts the traced cheater's opening
# information — audited — but not an honest rider's; an auditor cannot decrypt at all.
ANONCODE_ADMIN_PASSWORD="officer passphrase 1" admin account add --username sol --role security_officer >/dev/null
ANONCODE_ADMIN_PASSWORD="auditor passphrase 1" admin account add --username ann --role auditor >/dev/null
console_identity() {  # console_identity USERNAME PASSWORD USER_ID: log in, ask for the identity
  python3 - "$url" "$ca" "$@" <<'PY'
import json, ssl, sys, urllib.request, urllib.error
url, ca, user, password, user_id = sys.argv[1:6]
tls = ssl.create_default_context(cafile=ca)
def call(path, body, headers):
    req = urllib.request.Request(url + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **headers})
    try:
        r = urllib.request.urlopen(req, context=tls)
    except urllib.error.HTTPError as e:
        r = e
    return r.headers.get("Set-Cookie", ""), json.loads(r.read().decode())
cookie, session = call("/admin/v1/session/login", {"username": user, "password": password}, {})
_, answer = call("/admin/v1/trace/identity", {"user_id": user_id},
                 {"Cookie": cookie.split(";")[0], "X-CSRF-Token": session.get("csrf_token", "")})
print(json.dumps(answer))
PY
}
out=$(console_identity sol "officer passphrase 1" dave)
check "a security officer decrypts the traced cheater's opening information" "$(jq -e '.user_id == "dave" and .name == "赵强" and .id_number == "110105197704044567" and .phone == "13900004444"' <<<"$out")"
out=$(console_identity sol "officer passphrase 1" alice)
check "... but not an honest rider's" "$(jq -e '.error.code == "forbidden" and (has("name") | not)' <<<"$out")"
out=$(console_identity ann "auditor passphrase 1" dave)
check "an auditor cannot decrypt" "$(jq -e '.error.code == "forbidden" and (has("name") | not)' <<<"$out")"
out=$(admin audit verify)
check "the audit log holds" "$(jq -e '.ok == true' <<<"$out")"

# The narrated demo of every flow (issue #4) runs against this same server.
out=$("$bin" demo --server "$url" --token "$token" --trust-root "$data/trust_root" --pace 0 --work-dir "$tmp/demo" 2>"$tmp/demo.log")
check "the demo runs every step and traces its cheater" "$(jq -e '.steps == 13 and (.traced_user | endswith("-mallory")) and (.console | endswith("/admin/"))' <<<"$out")"
check "the demo wrote its QR image" "$([[ -s $tmp/demo/code.png ]] && echo true)"
check "the demo narrates with a progress bar" "$(grep -q '13/13' "$tmp/demo.log" && echo true)"

# What the services did, as the operator's Prometheus sees it (never who).
metrics=$(http_get "$port" /metrics)
metric() { awk -v m="$1" '$1 == m {print $2}' <<<"$metrics"; }
check "metrics: shows verified" "$([[ $(metric anoncode_shows_verified_total) -gt 20 ]] && echo true)"
check "metrics: clones traced (dave, the demo's mallory)" "$([[ $(metric anoncode_clones_traced_total) -ge 2 ]] && echo true)"
check "metrics: the copied code is a copy risk" "$([[ $(metric anoncode_copy_risks_total) -ge 1 ]] && echo true)"
check "metrics: rides settled once, the replayed one a duplicate" "$([[ $(metric anoncode_rides_settled_total) -ge 3 && $(metric anoncode_rides_duplicate_total) -ge 1 ]] && echo true)"
check "metrics: queue depths and violations are gauges" "$([[ $(metric anoncode_platform_requests_pending) == 0 && $(metric anoncode_violations) -ge 3 ]] && grep -q '^# TYPE anoncode_refill_pending gauge' <<<"$metrics" && echo true)"
check "metrics carry no user ids" "$(! grep -q 'dave\|alice\|mallory' <<<"$metrics" && echo true)"

stop_server
exit $fail
