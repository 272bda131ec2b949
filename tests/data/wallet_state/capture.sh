#!/usr/bin/env bash
# Captures the wallet state files in this folder with the `anoncode wallet` commands of a build,
# against a throwaway server:
#   tests/data/wallet_state/capture.sh ANONCODE_BIN
# The files here were captured from commit 51b07b8, the last SDK that kept its state as JSON;
# src/sdk/wallet_state_test.cpp checks that every one loads and is written back unchanged.
set -uo pipefail
bin=$1
out=$(cd "$(dirname "$0")" && pwd)
source "$out/../../lib.sh"

data=$tmp/data
token=$("$bin" init --data "$data" | jq -r .admin_token)
start_server "$tmp/serve.log" --data "$data" --listen 127.0.0.1:0 || { cat "$tmp/serve.log"; exit 1; }
export ANONCODE_CA=$ca
admin() { "$bin" admin --server "$url" --token "$token" "$@"; }
wallet() { "$bin" wallet --server "$url" --state "$tmp/$1.json" --trust-root "$data/trust_root" "${@:2}"; }
user() {  # user ID N → its app token (phone 1390000NNNN)
  admin user add --user-id "$1" --name "name $1" --id-number "11010519900101123$2" \
    --phone "1390000${2}${2}${2}${2}" --card-no "310400000000000$2" | jq -r .app_token
  admin whitelist add "$1" >/dev/null
}
keep() { cp "$tmp/$1.json" "$out/$2.json"; echo "$2: $(jq -c 'keys' "$out/$2.json")"; }

# A wallet that fetched the issuer keys and was refused its open (a wrong app token).
wallet fresh open --user-id nobody --app-token wrong >/dev/null
keep fresh keys_only
alice=$(user alice 1)
wallet alice open --user-id alice --app-token "$alice" >/dev/null
keep alice opened
wallet alice recharge --amount 1000 >/dev/null
keep alice recharged
carol=$(user carol 3)
wallet carol open --user-id carol --app-token "$carol" >/dev/null
bob=$(user bob 2)
wallet bob open --user-id bob --app-token "$bob" >/dev/null
wallet bob recharge --amount 700 >/dev/null
wallet bob backup --phone 13900002222 --passphrase "correct horse" >/dev/null
keep bob backed_up

# Journals: the platform is away, so a show's request gets no issue response and stays pending.
stop_server
start_server "$tmp/serve2.log" --data "$data" --listen 127.0.0.1:0 --services privacy,app,admin ||
  { cat "$tmp/serve2.log"; exit 1; }
cp "$tmp/alice.json" "$tmp/alice-code.json"
wallet alice-code code >/dev/null
keep alice-code pending_code
cp "$tmp/alice.json" "$tmp/alice-recharge.json"
wallet alice-recharge recharge --amount 500 --strong >/dev/null
keep alice-recharge pending_recharge
wallet carol recharge --amount 300 >/dev/null
keep carol pending_first_recharge
stop_server
