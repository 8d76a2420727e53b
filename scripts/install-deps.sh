#!/usr/bin/env bash
# Installs everything Torii needs to build, run the example and run the tests,
# from Debian 12 packages only. Idempotent: a second run only checks.
set -euo pipefail

packages=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config git clang-format
  # libraries (see DESIGN.md "Dependencies")
  libyaml-cpp-dev libre2-dev node-llhttp nlohmann-json3-dev libssl-dev libc-ares-dev
  libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev libjemalloc-dev libnghttp2-dev
  # real upstreams and clients for end-to-end tests and the example
  python3 python3-pytest python3-requests python3-httpbin gunicorn curl
  procps iproute2 dnsmasq-base
  # bench/compare's upstream and load generators, for its smoke test
  # (tests/e2e/test_bench_smoke.py); bench/compare installs haproxy itself
  nginx-light wrk nghttp2-client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # RUNLEVEL=1: do not start the system services of what is installed (nginx on :80)
  $SUDO env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
