#!/usr/bin/env bash
# A ServiceEntry with resolution DNS, resolved by the agent through c-ares against a dnsmasq the
# test runs: traffic goes where the answer says, follows a changed answer without a restart
# (the TTL is kept within dns.ttl_floor/ttl_ceiling), and keeps the last good endpoints while
# the DNS server is down.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent_run_lib.sh"
ensure_proxy_user

HOST=$(make_ns adhost)
PEER=$(make_ns adpeer)
link_ns "$HOST" 198.18.0.1/24 "$PEER" 198.18.0.2/24
ip -n "$PEER" addr add 198.18.0.3/24 dev "$(ip -n "$PEER" -o link show type veth | awk -F'[ @:]+' '{print $2}')"
ip -n "$PEER" addr add 198.18.0.4/24 dev "$(ip -n "$PEER" -o link show type veth | awk -F'[ @:]+' '{print $2}')"
nginx_conf "$WORK/peer.conf" "
  server { listen 198.18.0.2:80; location / { return 200 'direct\n'; } }
  server { listen 198.18.0.3:80; location / { return 200 'one\n'; } }
  server { listen 198.18.0.4:80; location / { return 200 'two\n'; } }"
bg "$PEER" nginx-peer nginx -c "$WORK/peer.conf"
wait_port "$PEER" 198.18.0.3 80
wait_port "$PEER" 198.18.0.4 80

start_dnsmasq() {  # ADDRESS
  bg "$PEER" dnsmasq dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
    --listen-address=198.18.0.2 --port=53 --local-ttl=1 --address="/db.shop.test/$1"
  DNSMASQ_PID=$LAST_PID
  for _ in $(seq 1 50); do
    ip netns exec "$PEER" dig +short +time=1 +tries=1 @198.18.0.2 db.shop.test | grep -qx "$1" && return 0
    sleep 0.1
  done
  return 1
}
start_dnsmasq 198.18.0.3

write_agent_toml "$WORK/agent.toml" true 'upstreams = ["198.18.0.2"]
ttl_floor = 1
ttl_ceiling = 2'
{
  workload_group_yaml
  cat <<'YAML'
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: shop}
spec:
  hosts: [db.shop.test]
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
YAML
} >"$WORK/mesh/shop.yaml"

bg "$HOST" agent "$AGENT_BIN" run --config "$WORK/agent.toml"
AGENT_PID=$LAST_PID
wait_ready "$HOST" || { fail "agent ready"; finish; }
call() { ip netns exec "$HOST" curl -s --max-time 2 -H 'Host: db.shop.test' http://198.18.0.2/; }
# until CALL answers EXPECTED (10 s at most)
settle() {
  for _ in $(seq 1 100); do
    [[ $(call) == "$1" ]] && return 0
    sleep 0.1
  done
  return 1
}

expect_eq "the first answer routes the traffic" "one" "$(call)"
expect_match "config dump has the resolved endpoint" '198\.18\.0\.3' "$(agent_status "$HOST" /debug/config_dump)"
agent_pid_before=$AGENT_PID
proxy_before=$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1)

# The answer changes: traffic follows within the TTL ceiling, with no restart of anything.
kill "$DNSMASQ_PID"
wait "$DNSMASQ_PID" 2>/dev/null || true
start_dnsmasq 198.18.0.4 || fail "dnsmasq restarted"
settle two && pass "traffic follows the changed answer" || fail "traffic follows the changed answer ($(call))"
expect_eq "same proxy process" "$proxy_before" "$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1)"
kill -0 "$agent_pid_before" && pass "same agent process" || fail "same agent process"
changes=$(agent_metric "$HOST" meshnode_agent_dns_answer_changes_total)
((${changes:-0} >= 2)) && pass "answer changes counted" || fail "answer changes counted ($changes)"

# The DNS server goes away: the last good endpoints keep serving.
kill "$DNSMASQ_PID"
wait "$DNSMASQ_PID" 2>/dev/null || true
failures=0
for _ in $(seq 1 60); do
  failures=$(agent_metric "$HOST" meshnode_agent_dns_lookup_failures_total)
  ((${failures:-0} >= 2)) && break
  sleep 0.1
done
((${failures:-0} >= 2)) && pass "failed lookups counted" || fail "failed lookups counted ($failures)"
expect_eq "last good endpoints still serve" "two" "$(call)"
grep -q "resolve db.shop.test.*keeping 1 last good address" "$WORK/agent.log" &&
  pass "the failure is logged with the host" || fail "the failure is logged with the host"

kill -TERM "$AGENT_PID"
status=0
wait "$AGENT_PID" || status=$?
expect_eq "agent exit status" 0 "$status"
finish
