# Shared by the shell tests that run the real binary against a real server (sourced, not run):
# check, a temp dir cleaned on exit, start_server / stop_server for `anoncode serve` on a free
# loopback port, and http_get over bash's /dev/tcp. The caller sets `bin` first.
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

# GET over bash's /dev/tcp; prints the status line's code, a newline, then the body.
http_get() {  # http_get PORT PATH
  local resp
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  resp=$(cat <&3)
  exec 3<&- 3>&-
  local status=${resp#HTTP/1.? }
  printf '%s\n%s' "${status%% *}" "${resp#*$'\r\n\r\n'}"
}

# Starts `anoncode serve` in the background and waits for its "listening" line and /healthz.
# Sets server_pid, port and url.
start_server() {  # start_server LOGFILE ARGS…
  local log=$1
  shift
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

