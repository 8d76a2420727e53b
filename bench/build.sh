#!/usr/bin/env bash
# Builds the torii that the benchmarks measure: build-bench/torii, -O3 and
# linked with link-time optimisation (-DTORII_LTO=ON). bench/compare runs it
# (and builds it first) unless given --torii or $TORII_BIN;
# bench/callgrind_request.sh takes it by default.
#
# build/ (scripts/example.sh, scripts/test.sh) has the same -O3 code without
# the LTO link, which costs ~73 s of CPU at the end of the build for ~4% fewer
# instructions per request (bench/callgrind_request.sh: 19,182 -> 18,436);
# those 4% belong in the figures bench/ publishes, not in a first build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-bench exec scripts/build.sh --target torii -DTORII_LTO=ON -DTORII_TESTS=OFF -DTORII_BENCHMARKS=OFF
