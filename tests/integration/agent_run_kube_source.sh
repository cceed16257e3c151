#!/usr/bin/env bash
# meshnode-agent run with config.source = "kubernetes", against the fake API server
# (agent_tools/fake_kube_api.py) over TLS with a bearer token: a Service with its EndpointSlice
# and a VirtualService route the host's captured calls to nginx in a peer namespace; a changed
# route header and a moved endpoint reach the proxy; an invalid object is rejected alone while
# its last good version keeps serving; an injected 410 Gone relists and injected 500s back off,
# and changes keep arriving after both; with the API server stopped the proxy keeps serving, a
# restart with it still away serves the last good snapshot from disk, and its return is picked
# up by the retrying watches.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent_run_lib.sh"
ensure_proxy_user
fake="$MESHNODE_SRC/tests/integration/agent_tools/fake_kube_api.py"

HOST=$(make_ns akhost)
PEER=$(make_ns akpeer)
link_ns "$HOST" 198.18.0.1/24 "$PEER" 198.18.0.2/24
nginx_conf "$WORK/peer.conf" "
  server { listen 198.18.0.2:8080; location / { return 200 'one \$uri\n'; } }
  server { listen 198.18.0.2:8081; location / { return 200 'two \$uri\n'; } }"
bg "$PEER" nginx-peer nginx -c "$WORK/peer.conf"
wait_port "$PEER" 198.18.0.2 8080
H() { ip netns exec "$HOST" "$@"; }

cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
  -subj /CN=meshnode-test-ca -days 1 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
  -out server.csr -subj /CN=kube-apiserver 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
  -days 1 -extfile ext.cnf 2>/dev/null
echo "s3cret-token" >token
bg "$HOST" fake-kube python3 "$fake" 6443 "$WORK/server.crt" "$WORK/server.key" s3cret-token
FAKE_PID=$LAST_PID
wait_port "$HOST" 127.0.0.1 6443

fake_post() {  # PATH [JSON]: a test hook of the fake server
  H curl -sf --cacert "$WORK/ca.crt" -X POST "https://127.0.0.1:6443$1" --data-binary "${2:-}" \
    >/dev/null || fail "fake server hook $1"
}
fake_stat() {
  H curl -sf --cacert "$WORK/ca.crt" https://127.0.0.1:6443/fake/stats |
    python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
virtual_service() {  # HEADER_VALUE [DESTINATION_HOST]
  cat <<JSON
{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
 "metadata": {"name": "web", "namespace": "shop", "annotations": {"note": "from the test"}},
 "spec": {"hosts": ["web.shop.svc.cluster.local"],
          "http": [{"headers": {"response": {"set": {"x-mesh-route": "$1"}}},
                    "route": [{"destination": {"host": "${2-web.shop.svc.cluster.local}"}}]}]}}
JSON
}
endpoint_slice() {  # TARGET_PORT
  cat <<JSON
{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
 "metadata": {"name": "web-x1", "namespace": "shop",
              "labels": {"kubernetes.io/service-name": "web"}},
 "addressType": "IPv4",
 "ports": [{"name": "http", "port": $1, "protocol": "TCP"}],
 "endpoints": [{"addresses": ["198.18.0.2"], "conditions": {"ready": true}},
               {"addresses": ["198.18.0.77"], "conditions": {"ready": false}}]}
JSON
}
MESH='{"items": [
 {"apiVersion": "networking.istio.io/v1", "kind": "WorkloadGroup",
  "metadata": {"name": "shop-vm", "namespace": "shop"},
  "spec": {"metadata": {"labels": {"app": "shop"}},
           "template": {"serviceAccount": "shop", "ports": {"http": 8000}},
           "probe": {"periodSeconds": 1, "httpGet": {"port": 15000, "path": "/ready"}}}},
 {"apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
  "spec": {"clusterIP": "198.18.0.100", "selector": {"app": "web"},
           "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}]}'
fake_post /fake/apply "$MESH"
fake_post /fake/apply "$(endpoint_slice 8080)"
fake_post /fake/apply "$(virtual_service v1)"

write_agent_toml "$WORK/agent.toml" true 'upstreams = ["127.0.0.1:5353"]'
sed -i "s|^source = \"directory\"|source = \"kubernetes\"\napi_server = \"https://127.0.0.1:6443\"\ntoken_file = \"$WORK/token\"\nca_file = \"$WORK/ca.crt\"|" \
  "$WORK/agent.toml"
H "$AGENT_BIN" check --config "$WORK/agent.toml" >check.out 2>&1 &&
  pass "meshnode-agent check accepts the kubernetes source" ||
  fail "meshnode-agent check accepts the kubernetes source: $(cat check.out)"

bg "$HOST" agent "$AGENT_BIN" run --config "$WORK/agent.toml"
AGENT_PID=$LAST_PID
wait_ready "$HOST" || { fail "agent ready"; finish; exit 1; }

call() { H curl -s --max-time 2 -H 'Host: web.shop.svc.cluster.local' http://198.18.0.100/hello; }
route_header() {
  H curl -s -D - -o /dev/null --max-time 2 -H 'Host: web.shop.svc.cluster.local' \
    http://198.18.0.100/ | tr -d '\r' | awk -F': ' 'tolower($1) == "x-mesh-route" { print $2 }'
}
# wait_until WHAT EXPECTED COMMAND...: the command's output becomes EXPECTED within 5 s.
wait_until() {
  local what=$1 expected=$2 seen=""
  shift 2
  for _ in $(seq 1 50); do
    seen=$("$@")
    [[ $seen == "$expected" ]] && break
    sleep 0.1
  done
  expect_eq "$what" "$expected" "$seen"
}

# (1) The Service's endpoint and the VirtualService's header, through capture and the proxy.
expect_eq "a Service's cluster IP reaches its ready endpoint through the proxy" "one /hello" \
  "$(call)"
expect_eq "route header from the VirtualService" "v1" "$(route_header)"
grep -q "listed 1 Service" agent.log && pass "the Services were listed" ||
  fail "the Services were listed"
healthy() {
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))
print([c["status"] for c in e.get("status",{}).get("conditions",[]) if c["type"]=="Healthy"])' \
    "$WORK/registry/shop.shop-vm-198-18-0-1.json" 2>/dev/null || true
}
wait_until "the group's probe from the API makes the entry Healthy" "['True']" healthy

# (2) Changes reach the proxy: a new route header, an endpoint moved to another port.
fake_post /fake/apply "$(virtual_service v2)"
wait_until "a changed VirtualService reaches the proxy" v2 route_header
fake_post /fake/apply "$(endpoint_slice 8081)"
wait_until "a changed EndpointSlice reaches the proxy" "two /hello" call

# (3) An invalid version is rejected alone, named; the last good one keeps serving.
fake_post /fake/apply "$(virtual_service v-bad 'not a host!')"
for _ in $(seq 1 50); do grep -q "kubernetes:VirtualService/shop/web:" agent.log && break; sleep 0.1; done
grep -q "kubernetes:VirtualService/shop/web:.*destination.host" agent.log &&
  pass "the invalid object is logged with its source and field" ||
  fail "the invalid object is logged with its source and field"
grep -q "kubernetes:VirtualService/shop/web: rejected; its last good version keeps applying" \
  agent.log && pass "its last good version keeps applying" ||
  fail "its last good version keeps applying"
expect_eq "the last good route still serves" v2 "$(route_header)"

# (4) 410 Gone: every watch relists, and changes keep coming.
fake_post /fake/compact
for _ in $(seq 1 50); do grep -q "expired (410 Gone); relisting" agent.log && break; sleep 0.1; done
grep -q "expired (410 Gone); relisting" agent.log && pass "410 Gone leads to a relist" ||
  fail "410 Gone leads to a relist"
gone=$(fake_stat gone_sent)
((gone >= 1)) && pass "the fake server sent 410 ($gone watches)" || fail "no 410 sent"
fake_post /fake/apply "$(virtual_service v3)"
wait_until "a change after the relist reaches the proxy" v3 route_header
expect_eq "traffic keeps flowing after the relist" "two /hello" "$(call)"

# (5) Injected server errors: the failed lists back off and retry until they succeed.
fake_post "/fake/fail?n=4&code=500"
fake_post /fake/compact
for _ in $(seq 1 50); do grep -q "HTTP 500 (injected failure)" agent.log && break; sleep 0.1; done
grep -q "list: HTTP 500 (injected failure)" agent.log && pass "an injected 500 is logged" ||
  fail "an injected 500 is logged"
fake_post /fake/apply "$(virtual_service v4)"
wait_until "a change after the backoff reaches the proxy" v4 route_header
expect_eq "every injected failure was met" 4 "$(fake_stat failures_sent)"

# A deleted VirtualService leaves the proxy (the Service still routes, without the header).
fake_post "/fake/remove?kind=VirtualService&namespace=shop&name=web"
wait_until "a deleted VirtualService leaves the proxy" "" route_header
expect_eq "the Service routes without it" "two /hello" "$(call)"
fake_post /fake/apply "$(virtual_service v4)"
wait_until "and comes back when applied again" v4 route_header

# (6) The API server stops: the proxy keeps serving the last snapshot.
kill "$FAKE_PID"
wait "$FAKE_PID" 2>/dev/null || true
sleep 1.5
expect_eq "route still served with the API server gone" v4 "$(route_header)"
expect_eq "endpoint still served with the API server gone" "two /hello" "$(call)"
grep -q "config source: .*connect 127.0.0.1:6443" agent.log &&
  pass "the outage is logged with the API server" || fail "the outage is logged with the API server"

# (7) A restart with the API server still away serves the last good snapshot on disk.
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "agent exit status"
bg "$HOST" agent-again "$AGENT_BIN" run --config "$WORK/agent.toml"
AGENT_PID=$LAST_PID
wait_ready "$HOST" && pass "ready with the API server unreachable" ||
  fail "ready with the API server unreachable"
expect_eq "the last good snapshot serves after a restart" v4 "$(route_header)"
grep -q "not yet listed.*serving the last good snapshot" agent-again.log &&
  pass "the fallback is logged" || fail "the fallback is logged"

# (8) The API server comes back (empty, as after a restore): the watches, retrying with backoff,
# list it and the mesh applied there reaches the proxy.
bg "$HOST" fake-kube-again python3 "$fake" 6443 "$WORK/server.crt" "$WORK/server.key" \
  s3cret-token
wait_port "$HOST" 127.0.0.1 6443
fake_post /fake/apply "$MESH"
fake_post /fake/apply "$(endpoint_slice 8080)"
fake_post /fake/apply "$(virtual_service v5)"
seen=""
for _ in $(seq 1 200); do
  seen=$(route_header)
  [[ $seen == v5 ]] && break
  sleep 0.1
done
expect_eq "the mesh from the returned API server reaches the proxy" v5 "$seen"
expect_eq "with its endpoint" "one /hello" "$(call)"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "second agent exit status"
finish
