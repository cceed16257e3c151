#!/usr/bin/env bash
# meshnode-agent check reads the mesh agent.toml points at, as `run` would: a good mesh passes
# (with its resource count), an invalid manifest fails with its file, line and field, and a
# mesh the node cannot compile for (STRICT mTLS without a certificate) fails with the policy.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent_run_lib.sh"
ensure_proxy_user

write_agent_toml "$WORK/agent.toml" false
workload_group_yaml >"$WORK/mesh/group.yaml"
cat >"$WORK/mesh/routes.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing, namespace: shop}
spec:
  hosts: [billing.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.0.9}]
YAML

check() { "$AGENT_BIN" check --config "$WORK/agent.toml" >"$WORK/check.out" 2>&1; }

rc=0
check || rc=$?
expect_eq "a good mesh passes" 0 "$rc"
expect_match "...and says how much it read" "ok \(workload shop/shop-vm at 198.18.0.1, 2 mesh resources" \
  "$(cat "$WORK/check.out")"

cat >"$WORK/mesh/bad.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: billing, namespace: shop}
spec:
  hosts: [billing.shop.svc.cluster.local]
  http:
  - route:
    - destination: {host: billing.shop.svc.cluster.local}
      weight: -5
YAML
rc=0
check || rc=$?
expect_eq "an invalid manifest fails the check" 78 "$rc"
expect_match "...naming file, line and field" "$WORK/mesh/bad.yaml:9: .*http\[0\]\.route\[0\]\.weight" \
  "$(cat "$WORK/check.out")"
rm "$WORK/mesh/bad.yaml"

cat >"$WORK/mesh/strict.yaml" <<'YAML'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
YAML
rc=0
check || rc=$?
expect_eq "STRICT without a certificate fails the check" 78 "$rc"
expect_match "...naming the policy" "does not compile: .*$WORK/mesh/strict.yaml:[0-9]+" \
  "$(cat "$WORK/check.out")"
rc=0
"$AGENT_BIN" check --syntax-only --config "$WORK/agent.toml" >/dev/null 2>&1 || rc=$?
expect_eq "--syntax-only does not read the mesh" 0 "$rc"
rc=0
"$AGENT_BIN" check --no-mesh --config "$WORK/agent.toml" >"$WORK/check.out" 2>&1 || rc=$?
expect_eq "--no-mesh (the unit's ExecStartPre) checks the host but not the mesh" 0 "$rc"
expect_match "...and says so" "mesh not read" "$(cat "$WORK/check.out")"
finish
