#!/usr/bin/env bash
# The DNS proxy between dig and a dnsmasq it forwards to, alone in a network namespace:
# mesh names answered locally (UDP and TCP), other names forwarded and cached, and SERVFAIL
# within a second once dnsmasq is gone.
set -euo pipefail
tool="$MESHNODE_BUILD/tests/meshnode-agent-testtool"
ns="mnagdns$$"
work=$(mktemp -d /tmp/meshnode-agent-dns.XXXXXX)
pids=()

cleanup() {
  # `ip netns exec` may fork: end what runs in our namespace by its own pid.
  for p in $(ip netns pids "$ns" 2>/dev/null) "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
in_ns ip link set lo up

in_ns dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
  --listen-address=127.0.0.1 --port=5300 --user=root --group=root --pid-file="$work/dnsmasq.pid" \
  --address=/forwarded.test/198.18.0.44 --address=/other.test/198.18.0.45 \
  --log-facility="$work/dnsmasq.log" --log-queries &
dnsmasq_pid=$!
pids+=("$dnsmasq_pid")

in_ns "$tool" dns --listen 127.0.0.1 --port 15053 --upstream 127.0.0.1:5300 \
  --host reviews.bookinfo.svc.cluster.local --host db.corp.test=198.18.0.7 \
  --search bookinfo.svc.cluster.local --search svc.cluster.local --zone cluster.local \
  >"$work/proxy.out" 2>&1 &
pids+=("$!")

for _ in $(seq 50); do
  grep -q listening "$work/proxy.out" 2>/dev/null && in_ns dig +short +time=1 +tries=1 \
    @127.0.0.1 -p 5300 forwarded.test >/dev/null 2>&1 && break
  sleep 0.1
done
grep -q listening "$work/proxy.out" || fail "proxy did not start: $(cat "$work/proxy.out")"

ask() { in_ns dig +time=3 +tries=1 @127.0.0.1 -p 15053 "$@"; }

# Mesh names: allocated and declared addresses, short names, TCP, wrong type, unknown name.
a=$(ask +short reviews.bookinfo.svc.cluster.local A)
[[ $a == 240.240.* ]] || fail "mesh A: '$a'"
[[ $(ask +short reviews A) == "$a" ]] || fail "short name did not expand"
[[ $(ask +short +tcp reviews.bookinfo A) == "$a" ]] || fail "mesh A over TCP"
aaaa=$(ask +short reviews.bookinfo.svc.cluster.local AAAA)
[[ $aaaa == 2001:2:0:0:* || $aaaa == 2001:2::* ]] || fail "mesh AAAA: '$aaaa'"
[[ $(ask +short db.corp.test A) == 198.18.0.7 ]] || fail "declared address"
out=$(ask db.corp.test AAAA)
grep -q "status: NOERROR" <<<"$out" || fail "AAAA of v4-only host is not NODATA: $out"
grep -q "ANSWER: 0" <<<"$out" || fail "AAAA of v4-only host has answers: $out"
out=$(ask ghost.bookinfo.svc.cluster.local A)
grep -q "status: NXDOMAIN" <<<"$out" || fail "unknown mesh name is not NXDOMAIN: $out"

# Forwarded names reach dnsmasq once, then come from the cache.
[[ $(ask +short forwarded.test A) == 198.18.0.44 ]] || fail "forwarded A"
[[ $(ask +short +tcp forwarded.test A) == 198.18.0.44 ]] || fail "forwarded A over TCP"
forwarded=$(grep -c "query\[A\] forwarded.test" "$work/dnsmasq.log" || true)
# One query from the readiness probe above, one through the proxy; the TCP one was cached.
[[ $forwarded -eq 2 ]] || fail "expected 2 queries for forwarded.test at dnsmasq, saw $forwarded"
grep -q "mesh" "$work/dnsmasq.log" && fail "mesh names leaked to the upstream"

# Upstream gone: SERVFAIL, and within a second.
real_pid=$(cat "$work/dnsmasq.pid")
kill "$real_pid"
wait "$dnsmasq_pid" 2>/dev/null || true
for _ in $(seq 50); do
  kill -0 "$real_pid" 2>/dev/null || break
  sleep 0.1
done
start=$(date +%s%N)
out=$(ask other.test A || true)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -q "status: SERVFAIL" <<<"$out" || fail "no SERVFAIL with upstream gone: $out"
((elapsed_ms < 1000)) || fail "SERVFAIL took ${elapsed_ms} ms"
# Mesh names do not depend on the upstream.
[[ $(ask +short reviews A) == "$a" ]] || fail "mesh name after upstream loss"
# The cached forwarded name is still served.
[[ $(ask +short forwarded.test A) == 198.18.0.44 ]] || fail "cached name after upstream loss"
echo "PASS agent_dns (SERVFAIL after ${elapsed_ms} ms)"
