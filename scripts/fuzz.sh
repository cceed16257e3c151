#!/usr/bin/env bash
# Fuzzes the targets with libFuzzer (clang): scripts/fuzz.sh [SECONDS_EACH [TARGET...]]
# (default 60 seconds, every target). A crash, an input slower than 10 s or one needing more
# than 2.5 GB fails the run and leaves the input in build-fuzz/: fix the bug, then add the
# input to tests/fuzz/corpus/<name>/. Inputs that reach new code collect in
# build-fuzz/corpus/<name>/; the seeds and every input that once failed stay in
# tests/fuzz/corpus/<name>/, which every ordinary build replays as a unit test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(protocol_detection snapshot_json dns_message istio_yaml)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMESHNODE_FUZZ=ON -DMESHNODE_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

status=0
for t in "${targets[@]}"; do
  echo "== fuzz_$t for ${seconds}s"
  mkdir -p "build-fuzz/corpus/$t"
  (cd build-fuzz && "./$(find . -name "fuzz_$t" -type f -executable | head -1)" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -max_len=65536 \
    -print_final_stats=1 "corpus/$t" "../tests/fuzz/corpus/$t" 2>&1 |
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|ERROR: libFuzzer)') || true
  ls build-fuzz/crash-* build-fuzz/timeout-* build-fuzz/oom-* >/dev/null 2>&1 && status=1
done
exit $status
