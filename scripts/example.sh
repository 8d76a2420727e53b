#!/usr/bin/env bash
# Installs what the example needs, builds torii, and runs it on the bundled
# httpbin walkthrough (examples/httpbin): real httpbin on 127.0.0.1:8080
# behind the gateway on 127.0.0.1:8081 (Gateway port 80, mapped).
#
# It builds only the torii binary, with the compile flags test.sh uses
# (scripts/build.sh), so that scripts/test.sh afterwards compiles only the
# tests; without the tests and micro-benchmarks configured, CMake does not
# look for GoogleTest and Google Benchmark, which install-deps.sh example
# leaves out. apt's and the build's output go to build/logs/; a failing step
# shows its log.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stage.sh
logs="${BUILD_DIR:-build}/logs"
stage 1/3 "installing packages" "$logs/apt.log" scripts/install-deps.sh example
stage 2/3 "building torii" "$logs/build.log" scripts/build.sh --target torii -DTORII_TESTS=OFF -DTORII_BENCHMARKS=OFF
echo "[3/3] starting httpbin and torii ($("${BUILD_DIR:-build}/torii" --version))"
exec examples/httpbin/run.sh
