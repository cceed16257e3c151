#!/usr/bin/env bash
# meshnode-agent run end to end in a namespace: capture applied by the agent sends the host's
# calls through the supervised proxy; a manifest edit reaches the proxy within a second while
# h2load runs without a failed request; a proxy killed with SIGKILL is restarted and counted;
# removing the config directory leaves the last snapshot serving; SIGTERM removes every
# capture rule and marks the WorkloadEntry disconnected; a restart without a config source
# serves the last good snapshot from disk.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent_run_lib.sh"
ensure_proxy_user

HOST=$(make_ns arhost)
PEER=$(make_ns arpeer)
link_ns "$HOST" 198.18.0.1/24 "$PEER" 198.18.0.2/24
nginx_conf "$WORK/peer.conf" "
  server { listen 198.18.0.2:80; location / { return 200 'web \$uri\n'; } }"
bg "$PEER" nginx-peer nginx -c "$WORK/peer.conf"
wait_port "$PEER" 198.18.0.2 80

write_agent_toml "$WORK/agent.toml" true 'upstreams = ["127.0.0.1:5353"]'
mesh() {  # HEADER_VALUE: the mesh, with the response header the route adds
  {
    workload_group_yaml
    cat <<YAML
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.test]
  addresses: [198.18.0.2]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.0.2}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.test]
  http:
  - headers: {response: {set: {x-mesh-route: "$1"}}}
    route: [{destination: {host: web.shop.test}}]
YAML
  } >"$WORK/mesh/shop.yaml.tmp"
  mv "$WORK/mesh/shop.yaml.tmp" "$WORK/mesh/shop.yaml"
}
mesh v1

bg "$HOST" agent "$AGENT_BIN" run --config "$WORK/agent.toml"
AGENT_PID=$LAST_PID
wait_ready "$HOST" || { fail "agent ready"; finish; }
H() { ip netns exec "$HOST" "$@"; }
route_header() {
  H curl -s -D - -o /dev/null --max-time 2 -H 'Host: web.shop.test' http://198.18.0.2/ |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-mesh-route" { print $2 }'
}

# (1) The host's call to the upstream goes through capture and the proxy.
expect_eq "response through the proxy" "web /hello" \
  "$(H curl -s --max-time 2 -H 'Host: web.shop.test' http://198.18.0.2/hello)"
expect_eq "route header from the VirtualService" "v1" "$(route_header)"
H iptables-save -t nat | grep -q ':ISTIO_OUTPUT' && pass "capture chains installed" ||
  fail "capture chains installed"
proxy_pid=$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1)
proxy_user=$(ps -o user= -p "$proxy_pid")
expect_eq "proxy runs as the unprivileged user" "meshnode" "$proxy_user"
tunables=$(sed -n 's/.*kProxyMallocTunables = "\(.*\)";/\1/p' \
  "$MESHNODE_SRC/agent/supervisor/proxy_environment.h")
expect_eq "proxy started with the malloc tunables" "GLIBC_TUNABLES=$tunables" \
  "$(tr '\0' '\n' <"/proc/$proxy_pid/environ" | grep '^GLIBC_TUNABLES=')"
expect_match "registry page names the entry" '"name": "shop-vm-198-18-0-1"' \
  "$(agent_status "$HOST" /debug/registry)"
healthy=""
for _ in $(seq 1 50); do
  healthy=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))
print([c["status"] for c in e.get("status",{}).get("conditions",[]) if c["type"]=="Healthy"])' \
    "$WORK/registry/shop.shop-vm-198-18-0-1.json" 2>/dev/null || true)
  [[ $healthy == "['True']" ]] && break
  sleep 0.1
done
expect_eq "the group's probe makes the entry Healthy" "['True']" "$healthy"
expect_match "config dump is the snapshot" '"schema": ?1' "$(agent_status "$HOST" /debug/config_dump)"

# (2) An edit reaches the running proxy within a second, under load, with no failed request.
H h2load --h1 -D 4 -c 4 -H 'Host: web.shop.test' http://198.18.0.2/load >"$WORK/h2load.log" 2>&1 &
LOAD_PID=$!
sleep 1
start=$(date +%s%N)
mesh v2
seen=""
while (($(date +%s%N) - start < 1000000000)); do
  seen=$(route_header)
  [[ $seen == v2 ]] && break
  sleep 0.02
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "edited header served within 1 s (took ${elapsed_ms} ms)" "v2" "$seen"
wait "$LOAD_PID" || true
requests=$(grep '^requests:' "$WORK/h2load.log" || echo "no h2load summary")
expect_match "h2load under the reload: no failed or errored request (${requests#requests: })" \
  '[1-9][0-9]* succeeded, 0 failed, 0 errored' "$requests"
expect_match "h2load: every response 2xx" 'status codes: [1-9][0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' \
  "$(grep '^status codes:' "$WORK/h2load.log")"

# (4) kill -9 of the proxy: restarted with backoff, serving again, counted.
old_proxy=$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1)
kill -9 "$old_proxy"
for _ in $(seq 1 100); do
  new_proxy=$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1 || true)
  [[ -n $new_proxy && $new_proxy != "$old_proxy" ]] && break
  sleep 0.1
done
[[ -n ${new_proxy:-} && $new_proxy != "$old_proxy" ]] && pass "proxy restarted" ||
  fail "proxy restarted"
wait_port "$HOST" 127.0.0.1 15000
ok=""
for _ in $(seq 1 50); do
  [[ $(route_header) == v2 ]] && { ok=1; break; }
  sleep 0.1
done
[[ -n $ok ]] && pass "serving again after the restart" || fail "serving again after the restart"
expect_eq "restart counted in metrics" "1" "$(agent_metric "$HOST" meshnode_agent_proxy_restarts_total)"
expect_match "proxy metrics merged into 15020" 'meshnode_proxy_' "$(agent_status "$HOST" /stats/prometheus)"
grep -q "killed by signal 9" "$WORK/agent.log" && pass "the crash is logged" || fail "the crash is logged"

# (6) The config directory disappears: the proxy keeps serving the last snapshot.
rm -rf "$WORK/mesh"
sleep 1
expect_eq "last snapshot still served without a config source" "v2" "$(route_header)"
errors=$(agent_metric "$HOST" meshnode_agent_config_source_errors_total)
((${errors:-0} >= 1)) && pass "config source error counted" || fail "config source error counted ($errors)"
grep -q "config.directory.*keeps serving snapshot" "$WORK/agent.log" &&
  pass "the outage is logged with the key" || fail "the outage is logged with the key"
mkdir "$WORK/mesh"
mesh v3
seen=""
for _ in $(seq 1 50); do
  seen=$(route_header)
  [[ $seen == v3 ]] && break
  sleep 0.1
done
expect_eq "a recreated directory is picked up again" "v3" "$seen"

# (7) SIGTERM: entry disconnected, proxy drained, capture removed, exit 0.
kill -TERM "$AGENT_PID"
status=0
wait "$AGENT_PID" || status=$?
expect_eq "agent exit status" 0 "$status"
if H iptables-save | grep -q ISTIO; then fail "no ISTIO chains after stop"; else pass "no ISTIO chains after stop"; fi
if H ip6tables-save 2>/dev/null | grep -q ISTIO; then fail "no IPv6 ISTIO chains"; else pass "no IPv6 ISTIO chains"; fi
expect_match "entry marked disconnected" 'istio.io/disconnectedAt' \
  "$(cat "$WORK/registry/shop.shop-vm-198-18-0-1.json")"
pgrep -f "$WORK/state/snapshot.json" >/dev/null && fail "proxy gone after stop" || pass "proxy gone after stop"
expect_match "direct traffic after stop" "web /" "$(H curl -s --max-time 2 http://198.18.0.2/)"

# A start with the config source unreachable (a reboot with the control plane away) serves the
# last good snapshot kept on disk.
rm -rf "$WORK/mesh"
bg "$HOST" agent-again "$AGENT_BIN" run --config "$WORK/agent.toml"
AGENT_PID=$LAST_PID
wait_ready "$HOST" && pass "ready without a config source" || fail "ready without a config source"
expect_eq "the last good snapshot serves after a restart" "v3" "$(route_header)"
grep -q "serving the last good snapshot" "$WORK/agent-again.log" &&
  pass "the fallback is logged" || fail "the fallback is logged"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "second agent exit status"
finish
