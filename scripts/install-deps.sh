#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian's packages (Debian 12).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang-format
  # libFuzzer (scripts/fuzz.sh)
  clang libclang-rt-14-dev
  libssl-dev libnghttp2-dev node-llhttp libasio-dev libc-ares-dev libtomlplusplus-dev
  libyaml-cpp-dev nlohmann-json3-dev libsystemd-dev libgtest-dev libgmock-dev libbenchmark-dev
  # real peers for the tests and benchmarks
  curl nghttp2-client nghttp2-server nghttp2-proxy nginx-light haproxy wrk dnsmasq-base
  openssl iproute2 iptables nftables procps psmisc python3 python3-websockets netcat-openbsd socat
  # dig, the DNS client of the agent's DNS proxy tests
  bind9-dnsutils
  # RE2: VirtualService regex matches (Istio's documented syntax, linear-time matching)
  libre2-dev
  # the packaged-service test's Debian root file system, and rpmbuild for scripts/package.sh
  debootstrap rpm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
# nginx-light starts a default server on install; the tests start their own.
systemctl disable --now nginx >/dev/null 2>&1 || true
systemctl disable --now haproxy >/dev/null 2>&1 || true
