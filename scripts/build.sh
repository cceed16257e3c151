#!/usr/bin/env bash
# Configures and builds one flavour: scripts/build.sh [release|asan] (default release).
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${1:-release}
case "$flavour" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DMESHNODE_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 64 ;;
esac

cmake -S . -B "$dir" -G Ninja -DMESHNODE_WERROR=ON "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
