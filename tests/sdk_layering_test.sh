#!/usr/bin/env bash
# The rider's device links no server code (DESIGN §3.6 rule 1, docs/ARCHITECTURE.md): the SDK's
# shared library (libanoncode.so, the C ABI an app embeds) must not depend on SQLite or libpq, nor
# carry any symbol of the storage layer, the services or the HTTP server.
# Usage: sdk_layering_test.sh LIBANONCODE.so
set -uo pipefail
lib=$1
fail=0
check() {
  if [[ $2 == true ]]; then echo "ok   $1"; else echo "FAIL $1${3:+ — $3}"; fail=1; fi
}

deps=$(ldd "$lib") || { echo "FAIL ldd $lib"; exit 1; }
check "the SDK's shared library exists and ldd reads it" "$([[ -n $deps ]] && echo true)"
bad=$(grep -Ei 'libsqlite3|libpq' <<<"$deps" || true)
check "it links neither SQLite nor libpq" "$([[ -z $bad ]] && echo true)" "$bad"

# Every symbol it holds or needs, demangled: none of the storage, a service or the server.
syms=$(nm -C "$lib" 2>/dev/null; nm -C -D "$lib" 2>/dev/null)
check "nm reads its symbols" "$(grep -q 'anoncode::protocol::' <<<"$syms" && echo true)"
for ns in storage privacy platform app console posfront server; do
  hit=$(grep -m3 "anoncode::$ns::" <<<"$syms" || true)
  check "no symbol of anoncode::$ns" "$([[ -z $hit ]] && echo true)" "$hit"
done
hit=$(grep -m3 -E '\b(sqlite3_|PQconnectdb|PQexec)' <<<"$syms" || true)
check "no SQLite or libpq function" "$([[ -z $hit ]] && echo true)" "$hit"
exit $fail
