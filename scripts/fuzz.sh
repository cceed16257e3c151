#!/usr/bin/env bash
# Fuzzes every target for a while with libFuzzer (clang): scripts/fuzz.sh [SECONDS_EACH]
# (default 60). Inputs that reach new code collect in build-fuzz/corpus/<name>/; the seeds
# and every input that once crashed stay in tests/fuzz/corpus/<name>/, which every ordinary
# build replays as a unit test. A crash leaves its input in build-fuzz/: fix the bug, then add
# the input to tests/fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=(protocol_detection snapshot_json dns_message istio_yaml)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMESHNODE_FUZZ=ON -DMESHNODE_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

status=0
for t in "${targets[@]}"; do
  echo "== fuzz_$t for ${seconds}s"
  mkdir -p "build-fuzz/corpus/$t"
  (cd build-fuzz && "./$(find . -name "fuzz_$t" -type f -executable | head -1)" \
    -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 "corpus/$t" \
    "../tests/fuzz/corpus/$t" 2>&1 |
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)') || status=1
done
exit $status
