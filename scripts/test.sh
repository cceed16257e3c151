#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root: installs dependencies, builds the
# release and the ASan+UBSan flavours, runs the unit tests on both and the integration tests
# (network namespaces, iptables, real peers) on the release build.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh needs root (network namespaces, iptables, package installs)" >&2
  exit 77
fi

scripts/install-deps.sh
scripts/check-format.sh

scripts/build.sh release
scripts/build.sh asan

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
echo "== unit tests (release)"
ctest --test-dir build -L unit --output-on-failure -j "$(nproc)" || status=1
echo "== unit tests (asan+ubsan)"
ctest --test-dir build-asan -L unit --output-on-failure -j "$(nproc)" || status=1
echo "== integration tests (release)"
ctest --test-dir build -L integration --output-on-failure || status=1
echo "== integration tests (asan+ubsan)"
ctest --test-dir build-asan -L integration --output-on-failure || status=1
# The parsers of untrusted bytes: what clients send, what resolvers answer, what the proxy
# reloads. (istio_yaml is fuzzed by scripts/fuzz.sh alone: docs/development.md says why.)
echo "== fuzzing (libFuzzer, 15 s a target)"
scripts/fuzz.sh 15 protocol_detection snapshot_json dns_message || status=1
exit $status
