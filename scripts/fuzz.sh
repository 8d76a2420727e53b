#!/usr/bin/env bash
# Long-running fuzzing, kept out of the test suite (CI runs a short random-input
# loop as a unit test instead). Builds the libFuzzer targets with clang, ASan
# and UBSan in build-fuzz/ and runs each for a while.
#   scripts/fuzz.sh               every target, 300 s each
#   FUZZ_SECONDS=3600 scripts/fuzz.sh http1_fuzzer
# Crashes are written to build-fuzz/artifacts/; the corpus grows in
# build-fuzz/corpus/<target>/ and is reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if ! command -v clang++ >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang
fi

seconds="${FUZZ_SECONDS:-300}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(http1_fuzzer)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTORII_FUZZ=ON -DTORII_SANITIZE=ON -DTORII_TESTS=OFF -DTORII_BENCHMARKS=OFF
cmake --build build-fuzz --target "${targets[@]}"

mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "fuzz.sh: $t for ${seconds}s"
  "build-fuzz/fuzz/$t" -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix=build-fuzz/artifacts/ "build-fuzz/corpus/$t"
done
