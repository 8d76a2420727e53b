#!/usr/bin/env bash
# A/B of two or more Torii builds on the request path, interleaved round by
# round (A B, A B, ...), for a quick before/after of one change. Use
# bench/compare for figures to publish (peers, disturbance checks).
#
#   bench/ab_request.sh cpu     ROUNDS BIN...   # wrk -c50, 8 s: req/s and CPU us/request
#   bench/ab_request.sh latency ROUNDS BIN...   # h2load --rps 10k, 10 s: p50/p99/p99.9
#
# A BIN may be a wrapper script that execs torii (say, to set MALLOC_CONF).
# Starts an nginx upstream (30-byte body) pinned on CPU 1 with the load
# generator, each Torii pinned on CPU 0 with one worker on bench/config.
# CPU per request comes from the Torii process's /proc/<pid>/stat.
# Needs nginx, wrk, h2load, python3.
set -euo pipefail

mode="${1:?usage: bench/ab_request.sh cpu|latency ROUNDS BIN...}"
rounds="${2:?rounds}"
shift 2
[[ $# -ge 1 ]] || { echo "bench/ab_request.sh: name at least one torii binary" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
up_port=18390
gw_port=18391
admin_port=18392

upstream_cpus=1
source "$here/request_fixture.sh"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  cleanup_fixture
}
trap cleanup EXIT

# Starts torii $1 on CPU 0 and sets $pid to the process that serves (a
# wrapper script execs, so its pid is torii's).
start() {
  taskset -c 0 "$1" run --config "$work/config" --port-map "80=$gw_port" --admin "127.0.0.1:$admin_port" \
    --workers 1 --no-watch >"$work/logs/torii.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -f "http://127.0.0.1:$gw_port/" && return 0
    sleep 0.1
  done
  echo "bench/ab_request.sh: $1 did not serve:" >&2
  tail -5 "$work/logs/torii.log" >&2
  exit 1
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

for round in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    start "$bin"
    if [[ "$mode" == cpu ]]; then
      taskset -c 1 wrk -t1 -c50 -d2s "http://127.0.0.1:$gw_port/" >/dev/null  # warm-up
      t0="$(ticks)"
      out="$(taskset -c 1 wrk -t1 -c50 -d8s "http://127.0.0.1:$gw_port/")"
      t1="$(ticks)"
      requests="$(awk '/requests in/ { print $1 }' <<<"$out")"
      rps="$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
      python3 -c "import os; print('%-40s round %s: %8.0f req/s %6.2f us CPU/request' % ('$bin', $round, $rps, ($t1 - $t0) * 1e6 / os.sysconf('SC_CLK_TCK') / $requests))"
    else
      taskset -c 1 h2load --h1 -c50 -t1 --rps=200 -D10 --log-file="$work/h2load.log" \
        "http://127.0.0.1:$gw_port/" >/dev/null 2>&1
      python3 - "$bin" "$round" "$work/h2load.log" <<'PY'
import sys
lat = sorted(int(l.split("\t")[2]) / 1000.0 for l in open(sys.argv[3]) if l.split("\t")[1].strip() == "200")
p = lambda q: lat[int((len(lat) - 1) * q / 100)]
print("%-40s round %s: %d requests, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms"
      % (sys.argv[1], sys.argv[2], len(lat), p(50), p(99), p(99.9)))
PY
    fi
    stop
  done
done
