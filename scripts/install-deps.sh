#!/usr/bin/env bash
# Installs what Torii needs, from Debian 12 packages only. Idempotent: a second
# run only checks.
#   scripts/install-deps.sh           everything: build, example, tests, benchmarks' smoke test
#   scripts/install-deps.sh example   only what building torii and running examples/httpbin need
# The README's first command installs the example's set: on a bare Debian 12
# it is ~135 packages / ~136 MB to download instead of ~190 / ~187 MB
# (clang-format alone brings ~40 MB of LLVM).
set -euo pipefail

example=(
  # toolchain (CMake drives Ninja: no make, no build-essential)
  g++ cmake ninja-build pkg-config git
  # libraries (see DESIGN.md "Dependencies")
  libyaml-dev libre2-dev node-llhttp nlohmann-json3-dev libssl-dev libc-ares-dev libxxhash-dev
  libjemalloc-dev libnghttp2-dev
  # the example's workload (httpbin under gunicorn) and the curl commands it prints
  python3 python3-httpbin gunicorn curl
)
tests=(
  # the formatting check, unit tests, micro-benchmarks
  clang-format libgtest-dev libgmock-dev libbenchmark-dev
  # real upstreams and clients for end-to-end tests
  python3-pytest python3-requests procps iproute2 dnsmasq-base
  # HTTP/2 and gRPC clients and servers for end-to-end tests
  python3-h2 python3-hyperframe python3-hpack python3-grpcio
  # signing keys and JWTs for the RequestAuthentication tests (test_jwt.py)
  python3-cryptography
  # bench/compare's upstream and load generators, for its smoke test
  # (tests/e2e/test_bench_smoke.py); bench/compare installs haproxy itself
  nginx-light wrk nghttp2-client
  # the openssl command line: test certificates (test_https.py, bench/compare's TLS parts)
  openssl
  # the Debian package (scripts/package-check.sh): cpack's dpkg-shlibdeps and `file`,
  # adduser for its postinst (systemd-analyze verifies the unit where systemd is installed)
  dpkg-dev file adduser
  # headless Chromium renders the admin dashboard (tests/e2e/test_dashboard.py)
  chromium
  # a real etcd (and etcdctl) for the etcd config source's tests (tests/e2e/test_etcd*.py)
  etcd-server etcd-client
)

case "${1:-all}" in
  example) packages=("${example[@]}") ;;
  all) packages=("${example[@]}" "${tests[@]}") ;;
  *)
    echo "usage: $0 [example|all]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps.sh: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # One update serves both README commands: test.sh right after example.sh
  # skips it (the stamp is less than an hour old).
  stamp="${TMPDIR:-/tmp}/torii-apt-updated"
  if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
    $SUDO apt-get update -qq
    touch "$stamp"
  fi
  # RUNLEVEL=1: do not start the system services of what is installed (nginx on :80)
  $SUDO env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps.sh: every package is installed (${#packages[@]} checked)"
fi
