# Helpers for the `meshnode-agent run` tests: the proxy's user, agent.toml, the agent in a
# namespace. Sourced after lib.sh.
AGENT_BIN="$MESHNODE_BUILD/agent/meshnode-agent"

# The proxy runs as `meshnode`, as packaged; made here when the host has no such user.
ensure_proxy_user() {
  id meshnode >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin meshnode 2>/dev/null ||
    id meshnode >/dev/null
}

# write_agent_toml FILE CAPTURE_ENABLED [EXTRA_DNS_LINES]
write_agent_toml() {
  local file=$1 capture=$2 dns_extra=${3:-}
  mkdir -p "$WORK/mesh" "$WORK/registry" "$WORK/state" "$WORK/run"
  chmod 755 "$WORK/state"
  cat >"$file" <<TOML
[workload]
group = "shop-vm"
namespace = "shop"
address = "198.18.0.1"

[config]
source = "directory"
directory = "$WORK/mesh"

[registry]
type = "file"
directory = "$WORK/registry"

[capture]
enabled = $capture

[dns]
listen_address = "127.0.0.1"
listen_port = 15053
$dns_extra

[proxy]
binary = "$PROXY_BIN"
snapshot = "$WORK/state/snapshot.json"
user = "meshnode"
concurrency = 2
admin_port = 15000

[paths]
state_dir = "$WORK/state"
run_dir = "$WORK/run"
certs_dir = "$WORK/state/certs"
TOML
}

# The group this host belongs to; every mesh the tests write starts with it.
workload_group_yaml() {
  cat <<'YAML'
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: shop-vm, namespace: shop}
spec:
  metadata: {labels: {app: shop}}
  template: {serviceAccount: shop, ports: {http: 8000}}
  # The proxy's own readiness stands in for the workload's.
  probe: {periodSeconds: 1, httpGet: {port: 15000, path: /ready}}
YAML
}

# agent_status NS PATH: a page of the agent's status server.
agent_status() { ip netns exec "$1" curl -s --max-time 2 "http://127.0.0.1:15020$2"; }

# agent_metric NS NAME: one of the agent's (or the proxy's) metrics on 15020.
agent_metric() {
  agent_status "$1" /stats/prometheus | awk -v n="$2" '$1 == n { print $2 }'
}

# wait_ready NS: until /healthz/ready answers 200 (20 s at most).
wait_ready() {
  for _ in $(seq 1 200); do
    [[ $(ip netns exec "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
      http://127.0.0.1:15020/healthz/ready) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}
