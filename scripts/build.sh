#!/usr/bin/env bash
# Configures and builds Torii into build/ (or $BUILD_DIR).
#   scripts/build.sh [--target NAME ...] [CMake arguments...]
# Without --target, builds everything (torii, unit tests, micro-benchmarks).
#
# Every build of build/ starts from the same flags (DEFAULT_FLAGS below): the
# README's example.sh builds `--target torii` with them and test.sh the rest,
# so test.sh reuses every object example.sh compiled (one flag more on a
# compile line, such as -Werror, would recompile everything). CMake arguments
# given here come after them and win: example.sh leaves the tests out
# (-DTORII_TESTS=OFF, which changes no compile line), test.sh's sanitizer
# build changes the flags in its own build dir.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
DEFAULT_FLAGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTORII_WERROR=ON -DTORII_TESTS=ON -DTORII_BENCHMARKS=ON)

targets=()
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --target)
      targets+=(--target "$2")
      shift 2
      ;;
    *)
      cmake_args+=("$1")
      shift
      ;;
  esac
done

launcher=()
# ccache, when installed, shares compiled objects between build trees and
# checkouts (developers' worktrees); a fresh machine builds without it.
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja "${launcher[@]}" "${DEFAULT_FLAGS[@]}" "${cmake_args[@]}"
cmake --build "$BUILD_DIR" -j "$(nproc)" "${targets[@]}"
