#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, and runs every test
# (GoogleTest unit tests and pytest end-to-end tests, through CTest).
#   TORII_SANITIZE=1 scripts/test.sh   same, in an ASan+UBSan build (build-asan/)
# The build is scripts/build.sh's, the same flags and build dir as
# example.sh's: after the example, only the tests are compiled. apt's and the
# build's output go to <build dir>/logs/; a failing step shows its log.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stage.sh

build_args=()
if [ "${TORII_SANITIZE:-0}" = 1 ]; then
  export BUILD_DIR=build-asan
  build_args=(-DTORII_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  export BUILD_DIR=build
fi
logs="$BUILD_DIR/logs"

stage 1/5 "installing packages" "$logs/apt.log" scripts/install-deps.sh
stage 2/5 "building torii and the tests" "$logs/build.log" scripts/build.sh "${build_args[@]}"
# The .deb of this build, installed (and reinstalled) with apt-get and checked;
# not from a sanitizer build, which is no binary to ship.
if [ "${TORII_SANITIZE:-0}" = 1 ]; then
  echo "[3/5] Debian package: skipped in the sanitizer build"
else
  stage 3/5 "building, installing and checking the Debian package" "$logs/package.log" scripts/package-check.sh
fi

echo "[4/5] checking formatting (clang-format)"
clang-format --dry-run --Werror $(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 2>/dev/null) \
  || { echo "clang-format: run 'clang-format -i' on the files above"; exit 1; }

echo "[5/5] running the tests (ctest)"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}"
