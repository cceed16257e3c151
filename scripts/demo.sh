#!/usr/bin/env bash
# The demo: a host joins the "shop" mesh. Two network namespaces stand in for two machines:
# "host" runs meshnode (capture rules, proxy) and a client; "peer" runs two versions of the
# reviews service. The mesh's Istio resources (demo/mesh/) are compiled into the proxy's
# snapshot, and the host's plain curl calls are captured and routed by them.
# Run as root on Debian 12: sudo scripts/demo.sh  (everything it starts is removed at exit)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/demo.sh needs root (network namespaces, iptables)" >&2
  exit 77
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# MESHNODE_BUILD names an existing build (the test suite runs the demo that way).
if [[ -z "${MESHNODE_BUILD:-}" ]]; then
  step "Installing packages and building (scripts/install-deps.sh, scripts/build.sh)"
  scripts/install-deps.sh >/dev/null
  scripts/build.sh release >/dev/null
fi
BIN=${MESHNODE_BUILD:-$PWD/build}
PROXY_UID=1337
WORK=$(mktemp -d /tmp/meshnode-demo.XXXXXX)
chmod 755 "$WORK"
HOST=mn-demo-host PEER=mn-demo-peer
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$HOST" 2>/dev/null || true
  ip netns del "$PEER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cleanup
mkdir -p "$WORK"
chmod 755 "$WORK"

step "Two machines: host 198.18.0.1, peer 198.18.0.2 and 198.18.0.3"
ip netns add "$HOST"
ip netns add "$PEER"
ip link add mn-demo-a type veth peer name mn-demo-b
ip link set mn-demo-a netns "$HOST"
ip link set mn-demo-b netns "$PEER"
ip -n "$HOST" addr add 198.18.0.1/24 dev mn-demo-a
ip -n "$PEER" addr add 198.18.0.2/24 dev mn-demo-b
ip -n "$PEER" addr add 198.18.0.3/24 dev mn-demo-b
for ns in "$HOST" "$PEER"; do ip -n "$ns" link set lo up; done
ip -n "$HOST" link set mn-demo-a up
ip -n "$PEER" link set mn-demo-b up
# The service's virtual IP (198.18.100.11) is routed like any destination; capture takes it.
ip -n "$HOST" route add default dev mn-demo-a

cat >"$WORK/reviews.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log stderr;
events { worker_connections 128; }
http { access_log off;
  server { listen 198.18.0.2:80; location / { return 200 "reviews v1 (198.18.0.2) \$request_uri\n"; } }
  server { listen 198.18.0.3:80; location / { return 200 "reviews v2 (198.18.0.3) \$request_uri\n"; } }
}
CONF
ip netns exec "$PEER" nginx -c "$WORK/reviews.conf" >"$WORK/nginx.log" 2>&1 &
PIDS+=($!)

step "Compiling the mesh (demo/mesh/*.yaml) for this host: meshnode-agent compile"
"$BIN/agent/meshnode-agent" compile --config-dir demo/mesh --node-ns shop \
  --node-labels app=client --node-ip 198.18.0.1 >"$WORK/snapshot.json" 2>"$WORK/compile.log" || {
  cat "$WORK/compile.log" >&2
  exit 1
}
echo "snapshot version $(grep -m1 '"version"' "$WORK/snapshot.json" | tr -d ' ,')," \
  "$(grep -c '"name": "outbound|' "$WORK/snapshot.json") outbound clusters"

step "Starting meshnode-proxy as uid $PROXY_UID (outbound 15001, inbound 15006, admin 15000)"
ip netns exec "$HOST" setpriv --reuid=$PROXY_UID --regid=$PROXY_UID --clear-groups \
  "$BIN/proxy/meshnode-proxy" --snapshot "$WORK/snapshot.json" --concurrency 2 \
  >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
  ip netns exec "$HOST" curl -sf http://127.0.0.1:15000/ready >/dev/null 2>&1 && break
  sleep 0.1
done
ip netns exec "$HOST" curl -s http://127.0.0.1:15000/ready

step "Capturing the host's traffic: meshnode-iptables apply"
ip netns exec "$HOST" "$BIN/iptables/meshnode-iptables" apply --proxy-uid=$PROXY_UID \
  --proxy-gid=$PROXY_UID --backend=legacy
ip netns exec "$HOST" iptables-legacy-save -t nat | grep -E '^-A ISTIO_(OUTPUT|REDIRECT)' | head -4

step "A plain client on the host calls the service; the mesh routes it (80% v1, 20% v2)"
for _ in $(seq 1 20); do
  ip netns exec "$HOST" curl -s --resolve reviews.shop.svc.cluster.local:80:198.18.100.11 \
    http://reviews.shop.svc.cluster.local/book
done | sort | uniq -c | sed 's/^/  /'
ip netns exec "$HOST" curl -s -D - -o /dev/null \
  --resolve reviews.shop.svc.cluster.local:80:198.18.100.11 \
  http://reviews.shop.svc.cluster.local/ | grep -i '^x-demo-route'

step "Jason is always sent to v2 (header match), over HTTP/2 too"
ip netns exec "$HOST" curl -s --http2-prior-knowledge -H 'end-user: jason' \
  --resolve reviews.shop.svc.cluster.local:80:198.18.100.11 http://reviews.shop.svc.cluster.local/

step "What the proxy counted (/stats/prometheus)"
ip netns exec "$HOST" curl -s http://127.0.0.1:15000/stats/prometheus |
  grep -E '^meshnode_proxy_(downstream_rq_total|downstream_rq\{|upstream_cx_total)' | sed 's/^/  /'

step "Leaving no trace: meshnode-iptables cleanup"
ip netns exec "$HOST" "$BIN/iptables/meshnode-iptables" cleanup --backend=legacy
left=$(ip netns exec "$HOST" iptables-legacy-save -t nat | grep -c ISTIO || true)
echo "ISTIO rules left: $left"
echo
echo "Done. The snapshot the proxy served: meshnode-agent compile --config-dir demo/mesh" \
  "--node-ns shop --node-labels app=client --node-ip 198.18.0.1"
