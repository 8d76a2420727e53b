#!/usr/bin/env bash
# The httpbin walkthrough, standalone: httpbin (Debian's python3-httpbin under
# gunicorn) on 127.0.0.1:8080 as the workload, and Torii serving the Gateway's
# port 80 on 127.0.0.1:8081 from the manifests in this directory.
#
#   examples/httpbin/run.sh            # Ctrl-C (or SIGTERM) stops both
#
# Environment:
#   TORII_BIN     the torii binary (default: <repo>/build/torii)
#   HTTPBIN_PORT  where httpbin listens (default 8080; must match the
#                 WorkloadEntry httpbin-v1 `ports: {http: ...}` in httpbin.yaml)
#   GATEWAY_PORT  where Torii binds Gateway port 80 (default 8081)
#   ADMIN         Torii's admin address (default 127.0.0.1:15000)
#
# Needs: apt-get install -y python3-httpbin gunicorn curl
#
# Torii runs as a child (not exec'd) so that the EXIT trap can stop gunicorn;
# SIGINT/SIGTERM are passed on to Torii, which drains and exits.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
TORII_BIN="${TORII_BIN:-$root/build/torii}"
HTTPBIN_PORT="${HTTPBIN_PORT:-8080}"
GATEWAY_PORT="${GATEWAY_PORT:-8081}"
ADMIN="${ADMIN:-127.0.0.1:15000}"

die() { echo "run.sh: $*" >&2; exit 1; }

[ -x "$TORII_BIN" ] || die "no torii binary at $TORII_BIN (build it: cmake -S . -B build -G Ninja && cmake --build build)"

# gunicorn from Debian's package: prefer the module under the Debian python
# (a pyenv python3 earlier on PATH does not have it), else the gunicorn script.
if /usr/bin/python3 -c 'import gunicorn, httpbin' 2>/dev/null; then
  gunicorn_cmd=(/usr/bin/python3 -m gunicorn)
elif command -v gunicorn >/dev/null 2>&1; then
  gunicorn_cmd=(gunicorn)
else
  die "gunicorn/httpbin not found: apt-get install -y python3-httpbin gunicorn"
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy "$HTTPBIN_PORT" && die "127.0.0.1:$HTTPBIN_PORT is already in use (HTTPBIN_PORT)"
port_busy "$GATEWAY_PORT" && die "127.0.0.1:$GATEWAY_PORT is already in use (GATEWAY_PORT)"

if [ "$HTTPBIN_PORT" != 8080 ]; then
  echo "run.sh: note: HTTPBIN_PORT=$HTTPBIN_PORT but httpbin.yaml's WorkloadEntry says 8080; edit it to match" >&2
fi

gunicorn_pid=""
torii_pid=""
# shellcheck disable=SC2317  # trap handlers
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$torii_pid" ] && kill -0 "$torii_pid" 2>/dev/null; then
    kill -TERM "$torii_pid" 2>/dev/null || true
    wait "$torii_pid" 2>/dev/null || true
  fi
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    kill -TERM "$gunicorn_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$gunicorn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$gunicorn_pid" 2>/dev/null || true
    wait "$gunicorn_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
# On a signal: stop Torii (it drains), then leave; the EXIT trap stops gunicorn.
# shellcheck disable=SC2317  # trap handler
on_signal() {
  if [ -n "$torii_pid" ]; then kill -TERM "$torii_pid" 2>/dev/null || true; fi
}
trap on_signal INT TERM

echo "run.sh: starting httpbin (gunicorn) on 127.0.0.1:$HTTPBIN_PORT"
"${gunicorn_cmd[@]}" --bind "127.0.0.1:$HTTPBIN_PORT" --workers 2 --worker-class gthread --threads 4 \
  --graceful-timeout 2 --log-level warning httpbin:app &
gunicorn_pid=$!

for _ in $(seq 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$HTTPBIN_PORT/status/200" 2>/dev/null; then break; fi
  kill -0 "$gunicorn_pid" 2>/dev/null || die "gunicorn exited; see its output above"
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$HTTPBIN_PORT/status/200" || die "httpbin did not answer on 127.0.0.1:$HTTPBIN_PORT"

cat <<EOF
run.sh: httpbin is up. Starting Torii on 127.0.0.1:$GATEWAY_PORT (Gateway port 80); admin on $ADMIN.
Try, in another terminal:
  curl -i http://127.0.0.1:$GATEWAY_PORT/status/418     # 418 I'm a teapot, from httpbin via the gateway
  curl -i http://127.0.0.1:$GATEWAY_PORT/delay/1        # 200 after one second
  curl -i http://127.0.0.1:$GATEWAY_PORT/headers        # 404: the VirtualService only routes /status and /delay
  curl -i -H 'Host: httpbin.s1.whuanle.cn' http://127.0.0.1:$GATEWAY_PORT/status/200
  curl -s http://$ADMIN/config_dump      # what Torii compiled
Edit $here/httpbin_vs.yaml and the change is live within a second (see README.md).
EOF

"$TORII_BIN" run --config "$here" --port-map "80=$GATEWAY_PORT" --admin "$ADMIN" &
torii_pid=$!
# `wait` returns early (status > 128) when a trapped signal arrives; keep
# waiting until Torii itself has exited, and exit with its status. Torii may
# exit between the interrupted wait and the check (it drains in a
# millisecond when idle): its status is then still to be collected.
set +e
while :; do
  wait "$torii_pid"
  rc=$?
  if [ "$rc" -le 128 ]; then break; fi                    # Torii's own status
  if kill -0 "$torii_pid" 2>/dev/null; then continue; fi  # still draining
  wait "$torii_pid"
  last=$?
  if [ "$last" -ne 127 ]; then rc=$last; fi  # 127: the status above was Torii's own
  break
done
torii_pid=""
exit "$rc"
