#!/usr/bin/env bash
# The services through the real binary (DESIGN §5, §6): `anoncode init` makes a data directory
# (secrets mode 0600, never overwritten), `anoncode serve` runs in the background on a free port,
# and the admin commands print the JSON the contract promises. The server is always stopped on
# exit. Needs bash, jq, curl and python3. Every request goes over TLS, verified against the data
# directory's CA (DESIGN §3.6 rule 5).
set -uo pipefail
bin=$1
source "$(dirname "$0")/lib.sh"

# --- init ---
data=$tmp/data
out=$("$bin" init --data "$data"); rc=$?
check "init exits 0" "$([[ $rc -eq 0 ]] && echo true)"
check "init prints data_dir, admin_token, issuer_kid, platform_kid, the TLS CA and its SHA-256" "$(jq -e --arg d "$data" '
  .data_dir == $d and (.admin_token | length >= 40) and (.issuer_kid | test("^[0-9a-f]{16}$"))
  and (.platform_kid | test("^[0-9a-f]{16}$")) and .tls_ca == ($d + "/tls_ca.pem")
  and (.tls_ca_sha256 | test("^[0-9a-f]{64}$"))' <<<"$out")"
ca_sha256=$(jq -r .tls_ca_sha256 <<<"$out")
check "the printed SHA-256 is the CA certificate's" "$([[ $(openssl x509 -in "$data/tls_ca.pem" -noout -fingerprint -sha256 | tr -d : | cut -d= -f2 | tr A-F a-f) == "$ca_sha256" ]] && echo true)"
token=$(jq -r .admin_token <<<"$out")
platform_kid=$(jq -r .platform_kid <<<"$out")
modes_ok=true
for f in config.toml admin_token service_token issuer_key platform_key.pem pii_key tls_ca_key.pem tls_key.pem; do
  [[ $(stat -c %a "$data/$f" 2>/dev/null) == 600 ]] || { modes_ok=false; echo "  mode of $f: $(stat -c %a "$data/$f" 2>&1)"; }
done
check "config and secrets are mode 0600" "$modes_ok"
check "the TLS CA and certificate are public (0644)" "$([[ $(stat -c %a "$data/tls_ca.pem") == 644 && $(stat -c %a "$data/tls_cert.pem") == 644 ]] && echo true)"
check "the server certificate chains to the CA and names the loopback addresses" "$(openssl verify -CAfile "$data/tls_ca.pem" "$data/tls_cert.pem" >/dev/null && openssl x509 -in "$data/tls_cert.pem" -noout -ext subjectAltName | grep -q 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' && echo true)"
check "the data directory is mode 0700" "$([[ $(stat -c %a "$data") == 700 ]] && echo true)"
check "the admin token file holds the printed token" "$([[ $(cat "$data/admin_token") == "$token" ]] && echo true)"
check "no secret is in config.toml" "$(! grep -qF "$token" "$data/config.toml" && echo true)"

out=$("$bin" init --data "$data"); rc=$?
check "re-init fails" "$([[ $rc -ne 0 ]] && echo true)"
check "re-init is conflict" "$(jq -e '.error.code == "conflict"' <<<"$out")"
check "re-init changed nothing" "$([[ $(cat "$data/admin_token") == "$token" ]] && echo true)"

# --- serve ---
if ! start_server "$tmp/serve.log" --data "$data" --listen 127.0.0.1:0; then
  echo "FAIL the server did not start; its log:"; cat "$tmp/serve.log"; exit 1
fi
check "serve logs a listening line with its https URL" "$([[ $url == https://127.0.0.1:* ]] && echo true)"

admin() { "$bin" admin --server "$url" --ca "$ca" --token "$token" "$@"; }

# --- TLS: clients verify the server against the operator CA ---
out=$("$bin" admin --server "$url" --token "$token" violations); rc=$?
check "without --ca the server's certificate is not trusted: unavailable, naming the CA file" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "unavailable" and (.error.message | test("tls_ca.pem"))' <<<"$out")"
"$bin" init --data "$tmp/other" >/dev/null
out=$("$bin" admin --server "$url" --ca "$tmp/other/tls_ca.pem" --token "$token" violations); rc=$?
check "another operator's CA is refused too" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "unavailable"' <<<"$out")"
out=$("$bin" admin --server "${url/https/http}" --ca "$ca" --token "$token" violations); rc=$?
check "plain http to the TLS port gets no answer" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "unavailable"' <<<"$out")"
out=$("$bin" admin --server http://transit.example.org:8080 --token "$token" violations); rc=$?
check "plain http to a host that is not loopback is refused before connecting" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"
out=$("$bin" admin --server "$url" --ca "$data/trust_root" --token "$token" violations); rc=$?
check "a --ca file without a certificate is malformed" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "malformed"' <<<"$out")"
out=$(ANONCODE_CA=$ca "$bin" admin --server "$url" --token "$token" violations); rc=$?
check "the CA can come from ANONCODE_CA" "$([[ $rc -eq 0 ]] && jq -e '.violations == []' <<<"$out")"
check "curl verifies the server with the CA too" "$(curl -s --cacert "$ca" "$url/healthz" | jq -e '.status == "ok"')"
export ANONCODE_CA=$ca

out=$(admin user add --user-id u1 --name "张三" --id-number 11010519491231002X --phone 13800138000 --card-no 3104000012345678); rc=$?
check "admin user add exits 0" "$([[ $rc -eq 0 ]] && echo true)"
check "admin user add prints user_id and app_token" "$(jq -e '.user_id == "u1" and (.app_token | length >= 40)' <<<"$out")"
app_token=$(jq -r .app_token <<<"$out")

out=$(admin user add --user-id u1 --name x --id-number 1 --phone 1 --card-no 1); rc=$?
check "a second user u1 fails with conflict" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "conflict"' <<<"$out")"

out=$(admin whitelist all off)
check "whitelist all off" "$(jq -e '.whitelist.all == false and .whitelist.users == []' <<<"$out")"
out=$(admin whitelist add u1)
check "whitelist add u1" "$(jq -e '.whitelist.users == ["u1"]' <<<"$out")"
out=$(admin whitelist add u3 u2)
check "whitelist add a list" "$(jq -e '.whitelist.users == ["u1","u2","u3"]' <<<"$out")"
out=$(admin whitelist remove u2)
check "whitelist remove u2" "$(jq -e '.whitelist.users == ["u1","u3"]' <<<"$out")"
out=$(admin whitelist all on)
check "whitelist all on" "$(jq -e '.whitelist.all == true' <<<"$out")"
out=$(admin whitelist list)
check "whitelist list" "$(jq -e '.whitelist == {"all":true,"users":["u1","u3"]}' <<<"$out")"
out=$(admin whitelist all maybe); rc=$?
check "whitelist all maybe is a usage error" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

out=$(admin terminal add --terminal T001 --merchant BIZ01); rc=$?
check "terminal add prints terminal, merchant, terminal_key" "$([[ $rc -eq 0 ]] && jq -e '
  .terminal == "T001" and .merchant == "BIZ01" and (.terminal_key | test("^[A-Za-z0-9_-]{43}$"))' <<<"$out")"
out=$(admin terminal add --terminal T001 --merchant BIZ01); rc=$?
check "the same terminal again is conflict" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "conflict"' <<<"$out")"

out=$(admin violations)
check "violations is an empty list" "$(jq -e '.violations == []' <<<"$out")"

out=$(ANONCODE_ADMIN_TOKEN=$token "$bin" admin --server "$url" whitelist list); rc=$?
check "the token can come from ANONCODE_ADMIN_TOKEN" "$([[ $rc -eq 0 ]] && jq -e '.whitelist.all == true' <<<"$out")"

out=$("$bin" admin --server "$url" --token wrong-token violations); rc=$?
check "a wrong admin token is unauthorized, passed through" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "unauthorized" and (.error.message | length > 0)' <<<"$out")"
out=$("$bin" admin --server "$url" --token "$app_token" whitelist list); rc=$?
check "an app token is no admin token" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "unauthorized"' <<<"$out")"
out=$("$bin" admin --server "$url" violations); rc=$?
check "a missing token is a usage error" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"

out=$("$bin" admin --server http://127.0.0.1:1 --token "$token" violations); rc=$?
check "an unreachable server is unavailable" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "unavailable"' <<<"$out")"

resp=$(http_get "$port" /privacy/v1/params)
check "GET /privacy/v1/params" "$([[ $(head -n 1 <<<"$resp") == 200 ]] && tail -n +2 <<<"$resp" | jq -e '.group == "ristretto255" and (.keys | length == 1)')"
resp=$(http_get "$port" /platform/v1/keys)
check "GET /platform/v1/keys publishes the platform key of init" "$([[ $(head -n 1 <<<"$resp") == 200 ]] && tail -n +2 <<<"$resp" | jq -e --arg k "$platform_kid" '.keys | length == 1 and .[0].kid == $k and .[0].valid_until > .[0].valid_from')"
out=$(admin refill run --now 2030-01-01T00:00:00Z); rc=$?
check "admin refill run prints moved" "$([[ $rc -eq 0 ]] && jq -e '.moved == 0' <<<"$out")"
out=$(admin refill run --now yesterday); rc=$?
check "admin refill run --now must be a time" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"
# --- console accounts and the audit log ---
out=$(admin account add --username olga --role operator); rc=$?
check "admin account add prints username, role and a generated password once" "$([[ $rc -eq 0 ]] && jq -e '
  .username == "olga" and .role == "operator" and (.password | length >= 20)' <<<"$out")"
olga_password=$(jq -r .password <<<"$out")
out=$(ANONCODE_ADMIN_PASSWORD="a passphrase of my own" admin account add --username ann --role auditor); rc=$?
check "admin account add takes the password from ANONCODE_ADMIN_PASSWORD (and does not print it)" "$([[ $rc -eq 0 ]] && jq -e '
  .username == "ann" and .role == "auditor" and (has("password") | not)' <<<"$out")"
out=$(admin account add --username olga --role auditor); rc=$?
check "the same username again is conflict" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "conflict"' <<<"$out")"
out=$(admin account add --username root --role superuser); rc=$?
check "an unknown role is a usage error" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"
out=$(ANONCODE_ADMIN_PASSWORD=short admin account add --username bob --role auditor); rc=$?
check "a short password is invalid_argument" "$([[ $rc -eq 2 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"
# A console login over HTTP (python3's urllib): the answer and the cookie's attributes.
login() {  # login USERNAME PASSWORD → the Set-Cookie header, a newline, the body
  python3 - "$url" "$1" "$2" "$ca" <<'PY'
import json, ssl, sys, urllib.request, urllib.error
url, user, password, ca = sys.argv[1:5]
tls = ssl.create_default_context(cafile=ca)
req = urllib.request.Request(url + "/admin/v1/session/login", method="POST",
    data=json.dumps({"username": user, "password": password}).encode(),
    headers={"Content-Type": "application/json"})
try:
    r = urllib.request.urlopen(req, context=tls)
except urllib.error.HTTPError as e:
    r = e
print(r.headers.get("Set-Cookie", ""))
print(r.read().decode())
PY
}
resp=$(login olga "$olga_password")
check "the generated password logs in, with an HttpOnly SameSite=Strict cookie" "$(grep -q '^anoncode_session=.*; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=28800$' <<<"$resp" && tail -n 1 <<<"$resp" | jq -e '.role == "operator" and (.csrf_token | length == 43)')"
resp=$(login olga "not the password")
check "a wrong password is unauthorized, without a cookie" "$([[ $(head -n 1 <<<"$resp") == "" ]] && tail -n 1 <<<"$resp" | jq -e '.error.code == "unauthorized"')"
out=$(admin account disable --username ann); rc=$?
check "admin account disable" "$([[ $rc -eq 0 ]] && jq -e '.username == "ann" and .disabled == true' <<<"$out")"
out=$(admin account list); rc=$?
check "admin account list shows roles and who is disabled, no password hash" "$([[ $rc -eq 0 ]] && jq -e '
  (.accounts | map(.username) == ["ann","olga"]) and .accounts[0].disabled == true and .accounts[1].role == "operator"
  and (tostring | test("argon2") | not)' <<<"$out")"
out=$(admin account enable --username ann); rc=$?
check "admin account enable" "$([[ $rc -eq 0 ]] && jq -e '.disabled == false' <<<"$out")"
out=$(admin account disable --username nobody); rc=$?
check "disabling an unknown account is not_found" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "not_found"' <<<"$out")"
out=$(admin audit verify); rc=$?
check "admin audit verify: the chain holds" "$([[ $rc -eq 0 ]] && jq -e '.ok == true and .entries > 10 and .first_broken_seq == null' <<<"$out")"
check "no console password is in the log or the verify output" "$(! grep -qF -e "$olga_password" -e "a passphrase of my own" "$tmp/serve.log" && ! grep -qF -e "$olga_password" <<<"$out" && echo true)"

# --- a clone and its evidence (DESIGN §3.6 rule 7) ---
wallet() { local state=$1; shift; "$bin" wallet --server "$url" --state "$tmp/$state" --trust-root "$data/trust_root" "$@"; }
out=$(wallet w.json open --user-id u1 --app-token "$app_token"); rc=$?
check "wallet open" "$([[ $rc -eq 0 ]] && echo true)"
out=$(wallet w.json recharge --amount 1500); rc=$?
check "wallet recharge" "$([[ $rc -eq 0 ]] && echo true)"
cp "$tmp/w.json" "$tmp/w-clone.json"
out=$(wallet w.json code); rc=$?
check "the original requests a code" "$([[ $rc -eq 0 ]] && echo true)"
out=$(wallet w-clone.json code); rc=$?
check "the copy's show is refused as sn_reused" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "sn_reused"' <<<"$out")"
out=$(admin violations); rc=$?
check "admin violations lists the clone, its evidence verified by the server" "$([[ $rc -eq 0 ]] && jq -e '
  .violations | length == 1 and .[0].kind == "clone" and .[0].user_id == "u1" and .[0].evidence == "verified"' <<<"$out")"
violation_id=$(jq -r '.violations[0].id' <<<"$out")
out=$(admin violations verify "$violation_id" --trust-root "$data/trust_root"); rc=$?
check "admin violations verify: both shows checked with the root-signed public keys, J recomputed" "$([[ $rc -eq 0 ]] && jq -e --arg id "$violation_id" '
  .id == $id and .verified == true and (.j | test("^[0-9a-f]{64,}$")) and .user_id == "u1" and .trust_root_checked == true' <<<"$out")"
out=$(admin violations verify "$violation_id" --trust-root "$tmp/other/trust_root"); rc=$?
check "admin violations verify under another trust root: verification_failed" "$([[ $rc -eq 1 ]] && jq -e '
  .verified == false and .error.code == "verification_failed"' <<<"$out")"
out=$(admin violations verify no-such-violation --trust-root "$data/trust_root"); rc=$?
check "admin violations verify of an unknown id: not_found" "$([[ $rc -eq 1 ]] && jq -e '.error.code == "not_found"' <<<"$out")"

resp=$(http_get "$port" /no/such/route)
check "an unknown route is 404 not_found" "$([[ $(head -n 1 <<<"$resp") == 404 ]] && tail -n +2 <<<"$resp" | jq -e '.error.code == "not_found"')"
resp=$(http_get "$port" /admin/)
check "the admin console's page is served at /admin/" "$([[ $(head -n 1 <<<"$resp") == 200 ]] && grep -q 'console.js' <<<"$resp" && echo true)"
resp=$(http_get "$port" /admin/console.js)
check "the console's script is served" "$([[ $(head -n 1 <<<"$resp") == 200 ]] && grep -q 'X-CSRF-Token' <<<"$resp" && echo true)"
headers=$(curl -s --cacert "$ca" -D - -o /dev/null "$url/admin/")
check "the console is served with a strict CSP and no framing" "$(grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" <<<"$headers" && grep -qi '^X-Frame-Options: DENY' <<<"$headers" && echo true)"
resp=$(http_get "$port" /metrics)
check "metrics count the admin requests" "$(grep -q 'anoncode_http_requests_total{method="POST",route="/admin/v1/users",status="200"} 1' <<<"$resp" && grep -q 'anoncode_http_requests_total{method="POST",route="/admin/v1/users",status="409"} 1' <<<"$resp" && echo true)"

stop_server
check "SIGTERM stops the server cleanly (exit 0)" "$([[ $stop_rc -eq 0 ]] && echo true)"
check "serve prints one JSON object when it stops" "$(jq -e '.status == "stopped"' "$tmp/serve.out")"
check "every log line is JSON with time, level and event" "$(jq -se 'length > 10 and all(has("time") and has("level") and has("event"))' "$tmp/serve.log")"
check "request lines carry request id, method, route, status, duration" "$(jq -se '[.[] | select(.event == "request")] | length > 10 and all(has("request_id") and has("method") and has("route") and has("status") and has("duration_ms"))' "$tmp/serve.log")"
check "no token or personal data in the log" "$(! grep -qF -e "$token" -e "$app_token" -e 11010519491231002X -e 13800138000 -e 3104000012345678 -e "张三" "$tmp/serve.log" && echo true)"

# --- a tampered audit log ---
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE audit_log SET details = ? WHERE seq = 3", ("{\"user_ids\":[\"mallory\"]}",)); c.commit()' "$data/anoncode.db"
if start_server "$tmp/serve3.log" --data "$data" --listen 127.0.0.1:0; then
  out=$(admin audit verify); rc=$?
  check "admin audit verify reports an edited entry: verification_failed naming seq 3" "$([[ $rc -eq 1 ]] && jq -e '
    .error.code == "verification_failed" and (.error.message | test("seq 3")) and .first_broken_seq == 3 and .ok == false' <<<"$out")"
  stop_server
else
  check "serve starts again" false
fi

# --- a subset of the services ---
if start_server "$tmp/serve2.log" --data "$data" --listen 127.0.0.1:0 --services privacy; then
  check "--services privacy serves /privacy/v1/params" "$([[ $(http_get "$port" /privacy/v1/params | head -n 1) == 200 ]] && echo true)"
  check "--services privacy does not serve /admin/v1" "$([[ $(http_get "$port" /admin/v1/whitelist | head -n 1) == 404 ]] && echo true)"
  busy_port=$port
  out=$("$bin" serve --data "$data" --listen "127.0.0.1:$busy_port" 2>/dev/null); rc=$?
  check "serve on a busy port fails with unavailable" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "unavailable"' <<<"$out")"
  stop_server
else
  check "serve --services privacy starts" false
fi

# --- TLS off only on loopback; the certificate renewed ---
if start_server "$tmp/serve4.log" --data "$data" --listen 127.0.0.1:0 --plain-http; then
  check "serve --plain-http on loopback serves http://" "$([[ $url == http://127.0.0.1:* ]] && [[ $(http_get "$port" /healthz | head -n 1) == 200 ]] && echo true)"
  check "and warns in the log that TLS is off" "$(jq -se 'any(.event == "plain_http" and .level == "warn")' "$tmp/serve4.log")"
  stop_server
else
  check "serve --plain-http starts" false
fi
out=$("$bin" serve --data "$data" --listen 0.0.0.0:0 --plain-http 2>/dev/null); rc=$?
check "plain HTTP on an address that is not loopback is refused" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "invalid_argument" and (.error.message | test("loopback"))' <<<"$out")"
old_fp=$(openssl x509 -in "$data/tls_cert.pem" -noout -fingerprint -sha256)
out=$("$bin" tls renew --data "$data"); rc=$?
check "tls renew issues a new certificate from the same CA" "$([[ $rc -eq 0 ]] && jq -e --arg s "$ca_sha256" '.tls_ca_sha256 == $s and (.names | index("127.0.0.1")) and .not_after > now + 360*86400' <<<"$out" >/dev/null && [[ $(openssl x509 -in "$data/tls_cert.pem" -noout -fingerprint -sha256) != "$old_fp" ]] && openssl verify -CAfile "$ca" "$data/tls_cert.pem" >/dev/null && echo true)"
if start_server "$tmp/serve5.log" --data "$data" --listen 127.0.0.1:0; then
  check "the restarted server uses the renewed certificate" "$([[ $(echo | openssl s_client -connect "127.0.0.1:$port" -CAfile "$ca" 2>/dev/null | openssl x509 -noout -fingerprint -sha256) == $(openssl x509 -in "$data/tls_cert.pem" -noout -fingerprint -sha256) ]] && echo true)"
  stop_server
else
  check "serve starts with the renewed certificate" false
fi
chmod 0644 "$data/tls_key.pem"
out=$("$bin" serve --data "$data" --listen 127.0.0.1:0 2>/dev/null); rc=$?
check "serve refuses a TLS key readable by others" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "forbidden"' <<<"$out")"
chmod 0600 "$data/tls_key.pem"

out=$("$bin" serve --data "$data" --services privacy,nope 2>/dev/null); rc=$?
check "an unknown service is invalid_argument" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "invalid_argument"' <<<"$out")"
out=$("$bin" serve --data "$tmp/absent" 2>/dev/null); rc=$?
check "serve without a data directory is not_found" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "not_found"' <<<"$out")"
chmod 0644 "$data/pii_key"
out=$("$bin" serve --data "$data" --listen 127.0.0.1:0 2>/dev/null); rc=$?
check "serve refuses a secret readable by others" "$([[ $rc -ne 0 ]] && jq -e '.error.code == "forbidden"' <<<"$out")"

exit $fail
