#!/usr/bin/env bash
# The include path enforces the layering (docs/ARCHITECTURE.md, cmake/anoncode.cmake): a library
# sees its own directory's headers and its declared dependencies', nothing else. This compiles a
# one-line probe with the exact flags the build uses for a file of a library, and checks that a
# header the library may use compiles and one it may not use does not.
# Usage: layering_test.sh BUILD_DIR
set -uo pipefail
build=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# probe LIBRARY_SOURCE HEADER → "ok" if a file including HEADER compiles with LIBRARY_SOURCE's flags
probe() {
  local cmd
  cmd=$(jq -r --arg f "$1" '.[] | select(.file | endswith($f)) | .command' \
    "$build/compile_commands.json" | head -n 1)
  [[ -n $cmd ]] || { echo "no compile command for $1"; return 2; }
  printf '#include "%s"\n' "$2" >"$tmp/probe.cpp"
  # Same flags, the probe as the source, no object written.
  cmd=${cmd/ -o */ -fsyntax-only $tmp/probe.cpp}
  if (cd "$build" && eval "$cmd") >"$tmp/out" 2>&1; then echo ok; else echo refused; fi
}
expect() {  # expect NAME SOURCE HEADER ok|refused
  local got
  got=$(probe "$2" "$3")
  if [[ $got == "$4" ]]; then echo "ok   $1"; else
    echo "FAIL $1 — expected $4, got $got"; sed -n 1,5p "$tmp/out"; fail=1
  fi
}

# The rider's SDK: the protocol and the network, never storage, a service or the server.
expect "the SDK reaches the protocol library" src/sdk/wallet.cpp protocol/show_context.h ok
expect "the SDK reaches net" src/sdk/wallet.cpp net/tls.h ok
expect "the SDK cannot include the storage layer" src/sdk/wallet.cpp storage/db.h refused
expect "the SDK cannot include the privacy backend" src/sdk/wallet.cpp privacy/privacy_backend.h refused
expect "the SDK cannot include the HTTP server" src/sdk/wallet.cpp server/http_server.h refused
expect "the SDK cannot include the code platform" src/sdk/wallet.cpp platform/platform.h refused
# Crypto knows no database and no network.
expect "crypto cannot include storage" src/crypto/credential_issuer.cpp storage/db.h refused
expect "crypto cannot include net" src/crypto/credential_issuer.cpp net/tls.h refused
# The protocol library is storage-free.
expect "protocol cannot include storage" src/protocol/show_context.cpp storage/db.h refused
# A service sees what it declares: the platform uses the privacy backend, the privacy backend
# does not use the platform.
expect "the platform reaches the privacy backend" src/platform/recharge.cpp privacy/privacy_backend.h ok
expect "the privacy backend cannot include the platform" src/privacy/privacy_backend.cpp platform/platform.h refused
exit $fail
