#!/usr/bin/env bash
# The proxy on a host whose traffic iptables redirects into it: original-destination routing,
# HTTP/1.1 <-> HTTP/2 in both directions, opaque and server-first TCP, inbound delivery,
# snapshot swaps under load, a refused snapshot, and a drain that lets a slow request finish.
source "$(dirname "$0")/../lib.sh"

PROXY_UID=1337
HOST=$(make_ns host)   # the meshnode host: application, proxy, capture rules
PEER=$(make_ns peer)   # another machine with the upstream services
link_ns "$HOST" 198.18.0.1/24 "$PEER" 198.18.0.2/24

# --- upstreams on the peer
nginx_conf "$WORK/peer.conf" "
  server { listen 198.18.0.2:80;
    location / { return 200 'web \$server_protocol \$request_method \$uri\n'; }
    location /upload { proxy_pass http://198.18.0.2:81/sink; }
    location /early { return 200 'early \$content_length\n'; } }
  server { listen 198.18.0.2:81; location / { return 200 'upload \$content_length\n'; } }
  server { listen 198.18.0.2:8080 http2;
    location / { return 200 'h2web \$server_protocol \$uri\n'; } }"
bg "$PEER" nginx-peer nginx -c "$WORK/peer.conf"
bg "$PEER" echo socat TCP-LISTEN:9000,bind=198.18.0.2,fork,reuseaddr EXEC:cat
bg "$PEER" banner socat TCP-LISTEN:2525,bind=198.18.0.2,fork,reuseaddr SYSTEM:'echo 220 banner-server; cat'
bg "$PEER" slow /usr/bin/python3 "$MESHNODE_SRC/tests/integration/proxy/slow_server.py" 198.18.0.2 7000
bg "$PEER" websocket /usr/bin/python3 "$MESHNODE_SRC/tests/integration/proxy/websocket_peer.py" serve 198.18.0.2 7100
# --- the host's own application, for inbound
nginx_conf "$WORK/app.conf" "
  server { listen 198.18.0.1:8000; location / { return 200 'app \$server_protocol \$uri\n'; } }"
bg "$HOST" nginx-app nginx -c "$WORK/app.conf"
for p in 80 8080 9000 2525 7000 7100; do wait_port "$PEER" 198.18.0.2 $p; done
wait_port "$HOST" 198.18.0.1 8000

# --- capture: the host's outbound TCP to 15001, inbound to port 8000 to 15006; the proxy's
# own uid is exempt so its upstream connections leave directly.
ip netns exec "$HOST" bash -e <<RULES
iptables -t nat -N MESH_OUT
iptables -t nat -A OUTPUT -p tcp -j MESH_OUT
iptables -t nat -A MESH_OUT -m owner --uid-owner $PROXY_UID -j RETURN
iptables -t nat -A MESH_OUT -d 127.0.0.0/8 -j RETURN
iptables -t nat -A MESH_OUT -p tcp -j REDIRECT --to-ports 15001
iptables -t nat -A PREROUTING -p tcp --dport 8000 -j REDIRECT --to-ports 15006
RULES

write_snapshot() {  # VERSION TAG
  cat >"$WORK/snapshot.json.tmp" <<JSON
{"schema": 1, "version": "$1",
 "listeners": [
   {"name": "outbound", "direction": "outbound", "port": 15001, "unmatched": "passthrough"},
   {"name": "inbound", "direction": "inbound", "port": 15006}],
 "http_routes": [
   {"direction": "outbound", "port": 80, "virtual_hosts": [
     {"name": "web", "domains": ["198.18.0.2", "web.mesh"], "routes": [
       {"name": "to-h2", "match": {"path": {"prefix": "/h2/"}}, "clusters": [{"cluster": "web-h2"}],
        "response_headers": {"set": {"x-route": "to-h2-$2"}}},
       {"name": "slow", "match": {"path": {"prefix": "/slow/"}}, "clusters": [{"cluster": "slow"}]},
       {"name": "ws", "match": {"path": {"prefix": "/ws"}}, "clusters": [{"cluster": "websocket"}]},
       {"name": "default", "clusters": [{"cluster": "web-h1"}],
        "response_headers": {"set": {"x-route": "default-$2"}}}]}]},
   {"direction": "inbound", "port": 8000, "virtual_hosts": [
     {"name": "app", "domains": ["*"], "routes": [
       {"clusters": [{"cluster": "inbound-passthrough"}],
        "response_headers": {"set": {"x-route": "inbound-$2"}}}]}]}],
 "clusters": [
   {"name": "web-h1", "protocol": "http1", "endpoints": [{"address": "198.18.0.2", "port": 80}]},
   {"name": "web-h2", "protocol": "http2", "endpoints": [{"address": "198.18.0.2", "port": 8080}]},
   {"name": "slow", "protocol": "http1", "endpoints": [{"address": "198.18.0.2", "port": 7000}]},
   {"name": "websocket", "protocol": "http2", "endpoints": [{"address": "198.18.0.2", "port": 7100}]},
   {"name": "inbound-passthrough", "type": "original_dst", "protocol": "http1"}]}
JSON
  mv "$WORK/snapshot.json.tmp" "$WORK/snapshot.json"
}
write_snapshot v1 a

bg "$HOST" proxy setpriv --reuid=$PROXY_UID --regid=$PROXY_UID --clear-groups \
  "$PROXY_BIN" --snapshot "$WORK/snapshot.json" --concurrency 2 --drain-timeout-ms 5000
PROXY_PID=$LAST_PID
wait_port "$HOST" 127.0.0.1 15000
H() { ip netns exec "$HOST" "$@"; }

# Original destination: the application dials the peer, the proxy routes it.
out=$(H curl -sS -m 5 -D - http://198.18.0.2/hello)
expect_match "HTTP/1.1 request routed by original destination" "x-route: default-a" "$out"
expect_match "HTTP/1.1 upstream saw HTTP/1.1" "web HTTP/1.1 GET /hello" "$out"

out=$(H curl -sS -m 5 http://198.18.0.2/h2/x)
expect_eq "HTTP/1.1 downstream to HTTP/2 upstream" "h2web HTTP/2.0 /h2/x" "$out"

out=$(H curl -sS -m 5 --http2-prior-knowledge -D - http://198.18.0.2/two)
expect_match "HTTP/2 downstream answered over HTTP/2" "^HTTP/2 200" "$out"
expect_match "HTTP/2 downstream to HTTP/1.1 upstream" "web HTTP/1.1 GET /two" "$out"

out=$(H curl -sS -m 5 --http2-prior-knowledge http://198.18.0.2/h2/both)
expect_eq "HTTP/2 downstream to HTTP/2 upstream" "h2web HTTP/2.0 /h2/both" "$out"

head -c 300000 /dev/urandom >"$WORK/body"
out=$(H curl -sS -m 5 --data-binary @"$WORK/body" http://198.18.0.2/upload)
expect_eq "HTTP/1.1 request body relayed" "upload 300000" "$out"
out=$(H curl -sS -m 5 --http2-prior-knowledge --data-binary @"$WORK/body" http://198.18.0.2/upload)
expect_eq "HTTP/2 request body relayed to HTTP/1.1" "upload 300000" "$out"
# An upstream that answers before reading the body: the HTTP/2 client is told to stop sending
# (RST_STREAM NO_ERROR after the response), and the next request still works.
out=$(H nghttp -d "$WORK/body" http://198.18.0.2/early 2>&1)
expect_eq "early response to an HTTP/2 upload" "early 300000" "$out"
out=$(H curl -sS -m 5 --data-binary @"$WORK/body" http://198.18.0.2/early)
expect_eq "early response to an HTTP/1.1 upload" "early 300000" "$out"
out=$(H curl -sS -m 5 --http2-prior-knowledge http://198.18.0.2/after-early)
expect_match "requests after an early response" "web HTTP/1.1 GET /after-early" "$out"

out=$(H nghttp http://198.18.0.2/h2/nghttp 2>&1)
expect_eq "nghttp client (h2c prior knowledge)" "h2web HTTP/2.0 /h2/nghttp" "$out"

# A WebSocket upgrade is tunnelled over HTTP/1.1 even to a cluster that prefers HTTP/2.
out=$(H /usr/bin/python3 "$MESHNODE_SRC/tests/integration/proxy/websocket_peer.py" call ws://198.18.0.2/ws hello 2>&1)
expect_eq "WebSocket upgrade tunnelled" "echo: hello" "$out"

# Opaque TCP: an echo protocol, and a server-first banner protocol that must not wait.
out=$(H bash -c 'printf "ping-tcp\n" | timeout 3 nc -q 1 198.18.0.2 9000')
expect_eq "opaque TCP passthrough" "ping-tcp" "$out"
out=$(H bash -c 'timeout 3 nc -q 1 198.18.0.2 2525 </dev/null | head -1')
expect_eq "server-first protocol passes without a client byte" "220 banner-server" "$out"
expect_match "passthrough counted" "^[1-9]" "$(stat_value "$HOST" 15000 downstream_cx_passthrough_total)"

# Inbound: a peer calls the host's application; the proxy delivers to the local port.
out=$(ip netns exec "$PEER" curl -sS -m 5 -D - http://198.18.0.1:8000/in)
expect_match "inbound delivered to the application" "app HTTP/1.1 /in" "$out"
expect_match "inbound went through the proxy" "x-route: inbound-a" "$out"

# h2load through the proxy, then a snapshot swap under load: no request may fail.
H h2load -n 3000 -c 4 -m 4 http://198.18.0.2/load >"$WORK/h2load-warm.log" 2>&1
expect_match "h2load through the proxy" "3000 succeeded, 0 failed" "$(cat "$WORK/h2load-warm.log")"
H h2load -n 40000 -c 8 -m 8 http://198.18.0.2/load >"$WORK/h2load-swap.log" 2>&1 &
LOAD=$!
for i in 1 2 3 4 5; do
  sleep 0.2
  write_snapshot "v$((i + 1))" "b$i"
  kill -HUP "$PROXY_PID"
done
wait $LOAD || true
expect_match "snapshot swaps under h2load: zero failed" "40000 succeeded, 0 failed, 0 errored" \
  "$(grep 'requests:' "$WORK/h2load-swap.log")"
out=$(H curl -sS -m 5 -D - http://198.18.0.2/after)
expect_match "the last snapshot serves" "x-route: default-b5" "$out"
expect_match "config_dump shows the version" '"version": "v6"' \
  "$(H curl -s http://127.0.0.1:15000/config_dump)"

# An invalid snapshot is refused with a line naming the problem; the old one keeps serving.
printf '{"schema": 1, "version": "broken",\n "clusters": [{"name": "x", "endpoints": [{"address": "198.18.0.9", "port": 99999}]}]}\n' \
  >"$WORK/snapshot.json"
kill -HUP "$PROXY_PID"
sleep 0.3
expect_match "refusal names file and field" \
  "snapshot rejected, still serving version v6: .*snapshot.json: field \\\$.clusters\[0\].endpoints\[0\].port" \
  "$(cat "$WORK/proxy.log")"
out=$(H curl -sS -m 5 -D - http://198.18.0.2/still)
expect_match "old snapshot still serving" "x-route: default-b5" "$out"
expect_eq "rejection counted" "1" "$(stat_value "$HOST" 15000 snapshot_reload_rejected)"

# An HTTP/2 client that gives up before the response takes its upstream request with it: the
# proxy resets the upstream rather than wait for an answer nobody will read.
resets() { local v; v=$(stat_value "$HOST" 15000 upstream_rq_tx_reset); echo "${v:-0}"; }
before=$(resets)
H curl -sS -m 0.5 --http2-prior-knowledge http://198.18.0.2/slow/4000 >/dev/null 2>&1 || true
for _ in $(seq 30); do
  [ "$(resets)" -gt "$before" ] && break
  sleep 0.1
done
expect_eq "upstream request reset when the HTTP/2 client goes away" "$((before + 1))" "$(resets)"

# The same once the response has started: a body nobody will read is not fetched to the end.
before=$(resets)
out=$(H curl -sS -m 0.5 --http2-prior-knowledge http://198.18.0.2/slow/drip/4000 2>/dev/null || true)
for _ in $(seq 30); do
  [ "$(resets)" -gt "$before" ] && break
  sleep 0.1
done
expect_match "the dripping response had started" "0000000" "$out"
expect_eq "upstream request reset when the client leaves mid-response" "$((before + 1))" \
  "$(resets)"

# Drain: a slow request in flight finishes; new connections are refused; exit status 0.
H curl -sS -m 10 http://198.18.0.2/slow/1500 >"$WORK/slow.out" 2>&1 &
SLOW=$!
sleep 0.4
kill -TERM "$PROXY_PID"
sleep 0.2
if H curl -sS -m 2 http://198.18.0.2/new >/dev/null 2>&1; then
  fail "a new connection during drain is refused"
else
  pass "a new connection during drain is refused"
fi
wait $SLOW || true
expect_eq "slow request finished during drain" "slept 1500" "$(cat "$WORK/slow.out")"
rc=0
wait "$PROXY_PID" || rc=$?
expect_eq "proxy exits 0 after draining" "0" "$rc"

finish
