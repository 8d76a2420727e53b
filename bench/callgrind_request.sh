#!/usr/bin/env bash
# Instructions per proxied request, counted by callgrind: repeatable on a
# shared or noisy machine where CPU-time figures are not. Use it to compare
# two builds of a request-path change; bench/compare gives the figures to
# publish.
#
#   bench/callgrind_request.sh [TORII_BIN] [REQUESTS]
#   CLIENT=h2c bench/callgrind_request.sh ...   # clients on HTTP/2 (prior knowledge)
#
# TORII_BIN defaults to build-bench/torii (bench/build.sh builds it).
#
# Starts an nginx upstream (30-byte body) and Torii on bench/config under
# valgrind, sends REQUESTS (default 20000) with h2load over HTTP/1.1 on 10
# connections (CLIENT=h2c: HTTP/2 with prior knowledge, 10 connections x 10
# streams, as bench/compare's h2c part), then does the same with 0 requests, and prints
# (total - startup) / REQUESTS. Needs valgrind, nginx and h2load
# (nghttp2-client).
# TORII_EXTRA_ARGS: more `torii run` flags (e.g. --no-istio-metrics to price
# the metrics); BENCH_PORT_BASE: first of the 3 ports used (default 18190);
# CALLGRIND_OUT_DIR: keep the two callgrind output files there, to read with
# callgrind_annotate (where the instructions went).
# EXTRA_CONFIG: manifest files copied into Torii's config too (e.g. a
# RequestAuthentication); REQUEST_HEADER: one header every h2load request
# carries (e.g. "authorization: Bearer <jwt>"), to price a policy.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bin="${1:-$root/build-bench/torii}"  # bench/build.sh: -O3 + LTO, what bench/compare measures
requests="${2:-20000}"
case "${CLIENT:-h1}" in
  h1) client=(--h1 -c 10) ;;
  h2c) client=(-c 10 -m 10) ;;
  *)
    echo "CLIENT: h1 or h2c, not ${CLIENT}" >&2
    exit 2
    ;;
esac
up_port=${BENCH_PORT_BASE:-18190}
gw_port=$((up_port + 1))
admin_port=$((up_port + 2))

source "$here/request_fixture.sh"
trap cleanup_fixture EXIT
if [[ -n "${EXTRA_CONFIG:-}" ]]; then
  # shellcheck disable=SC2086
  cp $EXTRA_CONFIG "$work/config/"
fi
header_args=()
[[ -n "${REQUEST_HEADER:-}" ]] && header_args=(-H "$REQUEST_HEADER")

# Prints the instructions callgrind counted for one run with $1 requests.
count() {
  local n="$1" out="$work/callgrind.$1"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" run --config "$work/config" \
    --port-map "80=$gw_port" --admin "127.0.0.1:$admin_port" --workers 1 --no-watch ${TORII_EXTRA_ARGS:-} \
    >"$work/logs/torii.$n.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -f "http://127.0.0.1:$gw_port/" && break
    sleep 0.3
  done
  if [[ "$n" != 0 ]]; then
    h2load "${client[@]}" "${header_args[@]}" -n "$n" "http://127.0.0.1:$gw_port/" | grep -E '^requests:' >&2
  fi
  kill -TERM "$pid"
  wait "$pid" || true
  if [[ -n "${CALLGRIND_OUT_DIR:-}" ]]; then
    mkdir -p "$CALLGRIND_OUT_DIR" && cp "$out" "$CALLGRIND_OUT_DIR/"
  fi
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

total="$(count "$requests")"
startup="$(count 0)"
echo "instructions: total $total, startup $startup (plus one probe request each)"
echo "per request: $(( (total - startup) / requests ))"
