#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, and runs every test
# (GoogleTest unit tests and pytest end-to-end tests, through CTest).
#   TORII_SANITIZE=1 scripts/test.sh   same, in an ASan+UBSan build (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

if [ "${TORII_SANITIZE:-0}" = 1 ]; then
  export BUILD_DIR=build-asan
  scripts/build.sh -DTORII_WERROR=ON -DTORII_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  export BUILD_DIR=build
  scripts/build.sh -DTORII_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi

clang-format --dry-run --Werror $(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 2>/dev/null) \
  || { echo "clang-format: run 'clang-format -i' on the files above"; exit 1; }

cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}"
