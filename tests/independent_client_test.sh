#!/usr/bin/env bash
# Clean-room interoperability test: the rider client in tests/independent_client/, written from
# docs/PROTOCOL.md and docs/API.md alone (Node.js, @noble/curves, its own SM3 and SM2), against a
# throwaway `anoncode serve` on 127.0.0.1.
#
#   tests/independent_client_test.sh BIN [GROUP]      GROUP: ristretto255 (default) or sm2
#
# Checks, in order:
#   0. the client's protocol code against a toy issuer written from PROTOCOL.md (offline);
#   1. the client refuses a key set under another trust root (another `init`'s root);
#   2. the client refuses a server whose certificate is not from the CA it was given;
#   3. the full rider flow (key set, open, recharge, code, history, a chained recharge, refund,
#      close), which exits non-zero at the first step that does not hold.
# Needs node ≥ 20 and npm; runs `npm ci` in tests/independent_client/ when node_modules is missing.
# The server and the temporary directory are removed on exit, also on failure.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 BIN [ristretto255|sm2]" >&2
  exit 2
fi
BIN=$(realpath "$1")
GROUP=${2:-ristretto255}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENT_DIR="$HERE/independent_client"

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f "$TMP/server.log" ]]; then
    echo "--- server log (last 20 lines) ---" >&2
    tail -n 20 "$TMP/server.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
if [[ ! -d "$CLIENT_DIR/node_modules/@noble/curves" || ! -d "$CLIENT_DIR/node_modules/@noble/hashes" ]]; then
  (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

"$BIN" init --data "$TMP/data" --group "$GROUP" >"$TMP/init.json"
"$BIN" init --data "$TMP/other" --group "$GROUP" >/dev/null   # another operator: another root, another CA

ANONCODE_LOG_LEVEL=info "$BIN" serve --data "$TMP/data" --listen 127.0.0.1:0 2>"$TMP/server.log" >/dev/null &
SERVER_PID=$!
URL=""
for _ in $(seq 300); do
  URL=$(sed -n 's/.*"event":"listening".*"url":"\([^"]*\)".*/\1/p' "$TMP/server.log" | head -n 1)
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited before listening" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$URL" ]] || { echo "the server did not log a listening line" >&2; exit 1; }

run_client() { node "$CLIENT_DIR/client.mjs" --server "$URL" "$@"; }
# the trust root exactly as `init` printed it
TRUST_ROOT=$(sed -n 's/.*"trust_root":"\([A-Za-z0-9_-]*\)".*/\1/p' "$TMP/init.json")
[[ -n "$TRUST_ROOT" ]] || { echo "init printed no trust_root" >&2; exit 1; }

# 0. the client's own protocol code against a toy issuer written from PROTOCOL.md (no server)
node "$CLIENT_DIR/selftest.mjs" "$GROUP"

# 1. a key set under another trust root is refused
if out=$(run_client --ca "$TMP/data/tls_ca.pem" --trust-root "$TMP/other/trust_root" --expect-group "$GROUP" --keyset-only 2>&1); then
  echo "FAIL: the client accepted a key set under another trust root:" >&2
  echo "$out" >&2
  exit 1
fi
grep -q "not signed by the trust root" <<<"$out" || { echo "FAIL: wrong refusal for another root:" >&2; echo "$out" >&2; exit 1; }
echo "ok: a key set under another trust root is refused ($(grep -o 'FAILED at keyset: [^;]*' <<<"$out"))"

# 2. a server whose certificate is not from our CA is refused (PROTOCOL §9.11)
if out=$(run_client --ca "$TMP/other/tls_ca.pem" --trust-root "$TRUST_ROOT" --expect-group "$GROUP" --keyset-only 2>&1); then
  echo "FAIL: the client trusted a server under another CA:" >&2
  echo "$out" >&2
  exit 1
fi
echo "ok: a server certificate from another CA is refused ($(grep -o 'FAILED at [^(]*' <<<"$out" | head -c 120))"

# 3. the rider's flows
run_client --ca "$TMP/data/tls_ca.pem" --trust-root "$TRUST_ROOT" \
  --admin-token "$(cat "$TMP/data/admin_token")" --expect-group "$GROUP"
