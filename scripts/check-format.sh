#!/usr/bin/env bash
# Fails when any C++ file differs from what .clang-format makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
((${#files[@]})) || exit 0
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "format: run 'clang-format -i \$(git ls-files \"*.cc\" \"*.h\")'" >&2
  exit 1
fi
