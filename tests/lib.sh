# Shared by the shell tests that run the real binary against a real server (sourced, not run):
# check, a temp dir cleaned on exit, start_server / stop_server for `anoncode serve` on a free
# loopback port, and http_get with curl (over TLS, verified against the data directory's CA).
# The caller sets `bin` first.
fail=0
check() {  # check NAME CONDITION-OUTPUT
  # On failure, also show what the command printed (the caller's $out, when it has one).
  if [[ $2 == true ]]; then echo "ok   $1"; else echo "FAIL $1 ${out:+— got: $out}"; fail=1; fi
}

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# GET with curl, https (the server's certificate verified against $ca) or http as $url says;
# prints the status code, a newline, then the body.
http_get() {  # http_get PORT PATH
  local resp scheme=${url%%://*}
  resp=$(curl -s --max-time 10 ${ca:+--cacert "$ca"} -w '\n%{http_code}' "$scheme://127.0.0.1:$1$2") || return 1
  printf '%s\n%s' "${resp##*$'\n'}" "${resp%$'\n'*}"
}

# Starts `anoncode serve` in the background and waits for its "listening" line and /healthz.
# Sets server_pid, port, url and ca (the data directory's tls_ca.pem, what clients verify with).
start_server() {  # start_server LOGFILE ARGS…
  local log=$1
  shift
  local args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    [[ ${args[i]} == --data ]] && ca=${args[i+1]}/tls_ca.pem
  done
  "$bin" serve "$@" >"$tmp/serve.out" 2>"$log" &
  server_pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(jq -r 'select(.event == "listening") | .url' "$log" 2>/dev/null | head -n 1)
    [[ -n $url ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  port=${url##*:}
  for _ in $(seq 50); do
    [[ -n $port ]] && [[ $(http_get "$port" /healthz 2>/dev/null | head -n 1) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  stop_rc=$?
  server_pid=""
}

