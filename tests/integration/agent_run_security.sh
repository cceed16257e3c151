#!/usr/bin/env bash
# meshnode-agent run with mesh security from YAML: a PeerAuthentication STRICT and an
# AuthorizationPolicy denying /admin in the config directory, the identity in paths.certs_dir.
# A peer in another namespace sees plaintext refused, and with a workload certificate of the
# mesh gets 200 on / and 403 on /admin (also when spelled /public/../admin); removing the deny
# from the file reaches the running proxy without a restart. A RequestAuthentication whose keys
# come from a jwksUri (served on the host's loopback) accepts a token of the served key and
# answers 401 to another; after the served key set changes, SIGHUP makes the agent fetch it again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent_run_lib.sh"
ensure_proxy_user

CERTS="$MESHNODE_BUILD/security/meshnode-certs"
HOST=$(make_ns secahost)
PEER=$(make_ns secapeer)
link_ns "$HOST" 198.18.0.1/24 "$PEER" 198.18.0.2/24
H() { ip netns exec "$HOST" "$@"; }
P() { ip netns exec "$PEER" "$@"; }

# Identities: one root; the host is shop/shop, the calling peer shop/sleep.
"$CERTS" root --out "$WORK/root" --trust-domain cluster.local >/dev/null
"$CERTS" workload --root "$WORK/root" --out "$WORK/host-id" --ns shop --sa shop --hours 2 >/dev/null
"$CERTS" workload --root "$WORK/root" --out "$WORK/peer-id" --ns shop --sa sleep --hours 2 >/dev/null

write_agent_toml "$WORK/agent.toml" true 'upstreams = ["127.0.0.1:5353"]'
mkdir -p "$WORK/state/certs"
cp "$WORK/host-id/cert-chain.pem" "$WORK/host-id/key.pem" "$WORK/host-id/root-cert.pem" \
  "$WORK/state/certs/"
# The proxy runs as `meshnode` and reads its key; packaging gives the directory to that user.
chown -R meshnode "$WORK/state/certs"

# The application: nginx on the host's port 8000, reached through inbound capture.
nginx_conf "$WORK/app.conf" "
  server { listen 0.0.0.0:8000; location / { return 200 'app \$uri\n'; } }"
bg "$HOST" nginx-app nginx -c "$WORK/app.conf"
wait_port "$HOST" 127.0.0.1 8000

# JWT keys: key1 served at first, key2 later.
JWT="/usr/bin/python3 $(dirname "$0")/jwt_tool.py"
ISSUER=https://issuer.meshnode.test
mkdir -p "$WORK/jwks"
for k in key1 key2; do
  openssl genrsa -out "$WORK/$k.pem" 2048 2>/dev/null
  $JWT jwks "$WORK/$k.pem" "$k" >"$WORK/$k.jwks"
done
cp "$WORK/key1.jwks" "$WORK/jwks/keys.json"
bg "$HOST" jwks-server /usr/bin/python3 -m http.server 18080 --bind 127.0.0.1 --directory "$WORK/jwks"
wait_port "$HOST" 127.0.0.1 18080
TOKEN1=$($JWT token "$WORK/key1.pem" key1 "$ISSUER")
TOKEN2=$($JWT token "$WORK/key2.pem" key2 "$ISSUER")

mesh() {  # DENY_ADMIN (yes|no)
  {
    workload_group_yaml
    cat <<'YAML'
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8000, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: shop}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: tokens, namespace: shop}
spec:
  selector: {matchLabels: {app: shop}}
  jwtRules:
  - issuer: https://issuer.meshnode.test
    jwksUri: http://127.0.0.1:18080/keys.json
YAML
    if [[ $1 == yes ]]; then
      cat <<'YAML'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: shop}
spec:
  selector: {matchLabels: {app: shop}}
  action: DENY
  rules:
  - to: [{operation: {paths: [/admin, /admin/*]}}]
YAML
    fi
  } >"$WORK/mesh/shop.yaml.tmp"
  mv "$WORK/mesh/shop.yaml.tmp" "$WORK/mesh/shop.yaml"
}
mesh yes

bg "$HOST" agent "$AGENT_BIN" run --config "$WORK/agent.toml"
AGENT_PID=$LAST_PID
wait_ready "$HOST" || { fail "agent ready"; finish; }

# The status code the peer gets for PATH, over mTLS with its workload certificate (curl keeps
# the path as written, so /public/../admin reaches the proxy unnormalized).
mtls() {  # PATH [curl options]
  local path=$1
  shift
  P curl -s -k --path-as-is -o /dev/null -w '%{http_code}' -m 3 \
    --cert "$WORK/peer-id/cert-chain.pem" --key "$WORK/peer-id/key.pem" "$@" \
    "https://198.18.0.1:8000$path" || true
}
plain() { P curl -s -o /dev/null -w '%{http_code}' -m 3 "http://198.18.0.1:8000$1" || true; }

snapshot=$(cat "$WORK/state/snapshot.json")
expect_match "the snapshot runs STRICT" '"mode": "STRICT"' "$snapshot"
expect_match "the snapshot names the identity from paths.certs_dir" \
  "\"cert_chain\": \"$WORK/state/certs/cert-chain.pem\"" "$snapshot"
expect_match "the policy's origin is its file and line" "\"origin\": \"$WORK/mesh/shop.yaml:[0-9]+\"" \
  "$snapshot"

code=""
for _ in $(seq 1 50); do
  code=$(mtls /)
  [[ $code == 200 ]] && break
  sleep 0.1
done
expect_eq "mTLS peer: / is served" 200 "$code"
expect_eq "plaintext inbound is refused under STRICT" 000 "$(plain /)"
expect_eq "mTLS peer: /admin is denied" 403 "$(mtls /admin)"
expect_eq "mTLS peer: /public/../admin is normalized and denied" 403 "$(mtls /public/../admin)"
expect_eq "mTLS peer: /admin/users is denied" 403 "$(mtls /admin/users)"
expect_eq "mTLS peer: /public is served" 200 "$(mtls /public)"

# Removing the deny from the file reaches the running proxy, no restart.
proxy_before=$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1)
mesh no
code=""
for _ in $(seq 1 50); do
  code=$(mtls /admin)
  [[ $code == 200 ]] && break
  sleep 0.1
done
expect_eq "after the edit /admin is served" 200 "$code"
expect_eq "the proxy was not restarted" "$proxy_before" "$(pgrep -P "$AGENT_PID" -f meshnode-proxy | head -1)"
expect_eq "plaintext is still refused" 000 "$(plain /)"

# Tokens: the key set came from the jwksUri.
expect_match "the snapshot carries the fetched key set" '\\"kid\\": ?\\"key1\\"' \
  "$(cat "$WORK/state/snapshot.json")"
expect_eq "a token of the served key is accepted" 200 \
  "$(mtls /public -H "Authorization: Bearer $TOKEN1")"
expect_eq "a token of another key gets 401" 401 "$(mtls /public -H "Authorization: Bearer $TOKEN2")"
expect_eq "a request without a token passes to authorization" 200 "$(mtls /public)"
cp "$WORK/key2.jwks" "$WORK/jwks/keys.json"
kill -HUP "$AGENT_PID"
code=""
for _ in $(seq 1 50); do
  code=$(mtls /public -H "Authorization: Bearer $TOKEN2")
  [[ $code == 200 ]] && break
  sleep 0.1
done
expect_eq "after the key set changed and SIGHUP, the new key's token is accepted" 200 "$code"
expect_eq "...and the old key's token gets 401" 401 \
  "$(mtls /public -H "Authorization: Bearer $TOKEN1")"

kill -TERM "$AGENT_PID"
status=0
wait "$AGENT_PID" || status=$?
expect_eq "agent exit status" 0 "$status"
finish
