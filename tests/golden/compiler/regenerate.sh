#!/usr/bin/env bash
# Rewrites corpus_snapshot.json: compiles tests/corpus/istio for the node in corpus.args.
# usage: tests/golden/compiler/regenerate.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build}
mapfile -t args < <(grep -v -e '^#' -e '^$' tests/golden/compiler/corpus.args)
"$build/agent/meshnode-agent" compile "${args[@]}" >tests/golden/compiler/corpus_snapshot.json
echo "wrote tests/golden/compiler/corpus_snapshot.json"
