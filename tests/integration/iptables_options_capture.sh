#!/usr/bin/env bash
# The capture options change what is captured, with the legacy and the native nftables
# backends: listed inbound ports (SSH captured only when listed), excluded destinations,
# interfaces and users, DNS to the host's resolvers only, IPv4-only installs, moved ports.
source "$(dirname "$0")/iptables_lib.sh"

setup_namespaces
start_peer "$host" serve APP 8080 9090
start_peer "$host" serve OUT2 15101
# A second block on the peer, reached on-link, for destinations that are or are not captured.
in_peer ip addr add 198.18.1.2/24 dev vp$$
in_host ip route add 198.18.1.0/24 dev vh$$
# `ip netns exec` shows this file as /etc/resolv.conf inside the host namespace.
[[ -d /etc/netns ]] || made_etc_netns=1
mkdir -p "/etc/netns/$host"
echo "nameserver 198.18.0.53" >"/etc/netns/$host/resolv.conf"

# Bad input: one line naming the flag or file:line and the option, a sysexits status, no rules.
rc=0
out=$(in_host "$bin" apply --backend=legacy --inbound-ports-exclude=22,70000 2>&1) || rc=$?
[[ $rc == 78 && $out == *"--inbound-ports-exclude: capture option inbound_ports_exclude: '70000' is not a port"* ]] ||
  fail "bad flag value: rc=$rc '$out'"
printf 'proxy_uid = 1337\noutbound_ips_exclude = 198.18.1.0/15\n' >"$tmp/bad.conf"
rc=0
out=$(in_host "$bin" apply --backend=legacy --options-file="$tmp/bad.conf" 2>&1) || rc=$?
[[ $rc == 78 && $out == *"$tmp/bad.conf:2: capture option outbound_ips_exclude:"*"did you mean 198.18.0.0/15?"* ]] ||
  fail "bad options file: rc=$rc '$out'"
rc=0
out=$(in_host "$bin" install 2>&1) || rc=$?
[[ $rc == 64 && $out == *"unknown command 'install'"* ]] || fail "bad command: rc=$rc '$out'"
[[ -z $(in_host iptables-legacy-save | grep ISTIO || true) ]] || fail "bad input installed rules"
pass "bad input is refused with its location and changes nothing"

for backend in legacy nft; do
  base=(--backend="$backend" --proxy-uid=1337 --proxy-gid=1337 --log-level=warning
        "$MESHNODE_TEST_STATE")
  install_foreign_rules "$backend"
  before=$(ruleset "$backend")

  in_host "$bin" apply "${base[@]}" --ipv6=true --inbound-ports-include=8080,22 \
    --outbound-ips-exclude=198.18.0.2/32 --exclude-uids=1500 --dns-capture=host-resolvers \
    >/dev/null || fail "$backend: apply (lists)"
  expect_reply "$backend: listed inbound port is captured" \
    "INBOUND ORIG=198.18.0.1:8080" "$(dial "$peer" 65534 tcp 198.18.0.1 8080)"
  expect_reply "$backend: SSH is captured when listed explicitly" \
    "INBOUND ORIG=198.18.0.1:22" "$(dial "$peer" 65534 tcp 198.18.0.1 22)"
  expect_reply "$backend: unlisted inbound port is not captured" \
    "APP ORIG=198.18.0.1:9090" "$(dial "$peer" 65534 tcp 198.18.0.1 9090)"
  expect_reply "$backend: excluded destination goes direct" \
    "PEER ORIG=198.18.0.2:8080" "$(dial "$host" 65534 tcp 198.18.0.2 8080)"
  expect_reply "$backend: other destination is captured" \
    "OUTBOUND ORIG=198.18.1.2:8080" "$(dial "$host" 65534 tcp 198.18.1.2 8080)"
  expect_reply "$backend: excluded uid goes direct" \
    "PEER ORIG=198.18.1.2:8080" "$(dial "$host" 1500 tcp 198.18.1.2 8080)"
  expect_reply "$backend: DNS to the host's resolver is captured" \
    "DNS" "$(dial "$host" 65534 udp 198.18.0.53 53)"
  expect_reply "$backend: DNS to another server is not captured" \
    "[Errno 111] Connection refused" "$(dial "$host" 65534 udp 198.18.0.2 53)"

  in_host "$bin" apply "${base[@]}" --ipv6=true --exclude-interfaces=vh$$ >/dev/null ||
    fail "$backend: apply (interfaces)"
  expect_reply "$backend: inbound on an excluded interface is not captured" \
    "APP ORIG=198.18.0.1:8080" "$(dial "$peer" 65534 tcp 198.18.0.1 8080)"
  expect_reply "$backend: outbound on an excluded interface is not captured" \
    "PEER ORIG=198.18.0.2:8080" "$(dial "$host" 65534 tcp 198.18.0.2 8080)"

  in_host "$bin" apply "${base[@]}" --ipv6=false --inbound-ports-include= \
    --outbound-ips-include=198.18.1.0/24 >/dev/null || fail "$backend: apply (IPv4 only)"
  expect_reply "$backend: no inbound capture" \
    "APP ORIG=198.18.0.1:8080" "$(dial "$peer" 65534 tcp 198.18.0.1 8080)"
  expect_reply "$backend: destination outside the included block goes direct" \
    "PEER ORIG=198.18.0.2:8080" "$(dial "$host" 65534 tcp 198.18.0.2 8080)"
  expect_reply "$backend: destination in the included block is captured" \
    "OUTBOUND ORIG=198.18.1.2:8080" "$(dial "$host" 65534 tcp 198.18.1.2 8080)"
  expect_reply "$backend: IPv6 is not captured when off" \
    "PEER ORIG=[2001:2::2]:8080" "$(dial "$host" 65534 tcp 2001:2::2 8080)"

  in_host "$bin" apply "${base[@]}" --ipv6=true --outbound-capture-port=15101 >/dev/null ||
    fail "$backend: apply (ports)"
  expect_reply "$backend: outbound goes to the configured port" \
    "OUT2 ORIG=198.18.0.2:8080" "$(dial "$host" 65534 tcp 198.18.0.2 8080)"

  in_host "$bin" cleanup --backend="$backend" "$MESHNODE_TEST_STATE" >/dev/null || fail "$backend: cleanup"
  [[ $(ruleset "$backend") == "$before" ]] || fail "$backend: cleanup left rules behind"
  pass "$backend: cleanup after option changes"
done
echo "PASS: capture options"
