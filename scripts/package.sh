#!/usr/bin/env bash
# Builds the meshnode packages from the release build: scripts/package.sh [--lint] [OUTDIR]
# (default OUTDIR: build/packages). Always a .deb; an .rpm too when rpmbuild is installed
# (Debian's `rpm` package). --lint runs lintian on the .deb (installing it if missing) and
# fails on errors. docs/packaging.md describes what the packages hold.
set -euo pipefail
cd "$(dirname "$0")/.."

lint=0
if [[ ${1:-} == --lint ]]; then
  lint=1
  shift
fi
out=${1:-build/packages}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac

scripts/build.sh release
generators=DEB
if command -v rpmbuild >/dev/null; then
  generators="DEB;RPM"
else
  echo "package: rpmbuild not found (apt-get install rpm): building the .deb only" >&2
fi
mkdir -p "$out"
(cd build && cpack -G "$generators" -B "$out")
rm -rf "$out/_CPack_Packages"

if ((lint)); then
  command -v lintian >/dev/null ||
    { apt-get update && apt-get install -y --no-install-recommends lintian; }
  # Warnings are listed; errors fail. See docs/packaging.md for the ones that remain.
  lintian --fail-on error "$out"/meshnode_*.deb
fi
ls -l "$out"/meshnode*.deb "$out"/meshnode*.rpm 2>/dev/null || true
