#!/usr/bin/env bash
# Mesh security on the data path, with real peers: a client proxy and a server proxy in two
# namespaces exchange traffic over mTLS (mesh ALPN and SNI, auto mTLS by endpoint label), the
# server's inbound ports run STRICT / PERMISSIVE / DISABLE against curl and openssl s_client
# with good and bad certificates, authorization answers 403 (HTTP) or closes (TCP), JWT answers
# 401, and the certificates rotate under h2load load without a failed request.
source "$(dirname "$0")/../lib.sh"

CERTS="$MESHNODE_BUILD/security/meshnode-certs"
CLIENT=$(make_ns mtlsc)   # a mesh host calling out: its application and proxy A
SERVER=$(make_ns mtlss)   # a mesh host serving: proxy B in front of nginx
link_ns "$CLIENT" 198.18.1.1/24 "$SERVER" 198.18.1.2/24
C() { ip netns exec "$CLIENT" "$@"; }
S() { ip netns exec "$SERVER" "$@"; }

# --- identities: one root, the two workloads, and every certificate a peer must refuse
"$CERTS" root --out "$WORK/root" --trust-domain cluster.local >/dev/null
"$CERTS" root --out "$WORK/other-root" --trust-domain cluster.local >/dev/null
wl() { local name=$1; shift; "$CERTS" workload --root "$WORK/root" --out "$WORK/$name" --hours 2 "$@" >/dev/null; }
wl server --ns foo --sa httpbin
wl client --ns foo --sa sleep
wl other --ns bar --sa intruder
wl expired --ns foo --sa sleep --expired
wl wrongtd --ns foo --sa sleep --trust-domain evil.example
wl nosan --ns foo --sa sleep --no-uri-san
wl twosans --ns foo --sa sleep --extra-uri-san spiffe://cluster.local/ns/foo/sa/admin
"$CERTS" workload --root "$WORK/other-root" --out "$WORK/stranger" --ns foo --sa sleep >/dev/null
# The proxies read their identity from files that rotation replaces in place.
mkdir -p "$WORK/id-a" "$WORK/id-b"
cp "$WORK/client/"*.pem "$WORK/id-a/"
cp "$WORK/server/"*.pem "$WORK/id-b/"

# --- a JWT issuer: an RSA key, its JWKS, and tokens signed with it
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
openssl genrsa -out "$WORK/jwt.key" 2048 2>/dev/null
modulus=$(openssl rsa -in "$WORK/jwt.key" -noout -modulus | cut -d= -f2 |
  python3 -c 'import sys, binascii; sys.stdout.buffer.write(binascii.unhexlify(sys.stdin.read().strip()))' | b64url)
JWKS="{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"alg\":\"RS256\",\"n\":\"$modulus\",\"e\":\"AQAB\"}]}"
JWKS_STRING=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$JWKS")
sign() {  # sign PAYLOAD_JSON
  local h p
  h=$(printf '{"alg":"RS256","kid":"k1","typ":"JWT"}' | b64url)
  p=$(printf '%s' "$1" | b64url)
  printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$WORK/jwt.key" | b64url)"
}
now=$(date +%s)
GOOD_TOKEN=$(sign "{\"iss\":\"https://issuer.test\",\"sub\":\"alice\",\"exp\":$((now + 3600))}")
EXPIRED_TOKEN=$(sign "{\"iss\":\"https://issuer.test\",\"sub\":\"alice\",\"exp\":$((now - 3600))}")
WRONG_ISS_TOKEN=$(sign "{\"iss\":\"https://evil.test\",\"sub\":\"alice\",\"exp\":$((now + 3600))}")

# --- the server host: nginx as the application, echoing what the proxy forwarded
nginx_conf "$WORK/app.conf" "
  server { listen 127.0.0.1:8000;
    location / { return 200 'app uri=\$request_uri xfcc=\$http_x_forwarded_client_cert\n'; } }"
bg "$SERVER" nginx-app nginx -c "$WORK/app.conf"
bg "$SERVER" echo socat TCP-LISTEN:9000,bind=127.0.0.1,fork,reuseaddr EXEC:cat
wait_port "$SERVER" 127.0.0.1 8000
wait_port "$SERVER" 127.0.0.1 9000

inbound_table() {  # PORT
  echo "{\"direction\": \"inbound\", \"port\": $1, \"virtual_hosts\": [{\"name\": \"app\", \"domains\": [\"*\"],
    \"routes\": [{\"clusters\": [{\"cluster\": \"inbound|8000||\"}]}]}]}"
}
listener() {  # NAME DIRECTION PORT
  echo "{\"name\": \"$1\", \"direction\": \"$2\", \"port\": $3, \"use_original_dst\": false, \"unmatched\": \"refuse\"}"
}
cat >"$WORK/server.json" <<JSON
{"schema": 1, "version": "server-1",
 "listeners": [$(listener strict inbound 15006), $(listener permissive inbound 15007),
               $(listener disable inbound 15008), $(listener tcp inbound 15010)],
 "http_routes": [$(inbound_table 15006), $(inbound_table 15007), $(inbound_table 15008)],
 "tcp_routes": [{"direction": "inbound", "port": 15010, "cluster": "inbound|9000||"}],
 "clusters": [
   {"name": "inbound|8000||", "protocol": "http1", "endpoints": [{"address": "127.0.0.1", "port": 8000}]},
   {"name": "inbound|9000||", "endpoints": [{"address": "127.0.0.1", "port": 9000}]}],
 "security": {
   "identity": {"cert_chain": "$WORK/id-b/cert-chain.pem", "key": "$WORK/id-b/key.pem",
                "root_cert": "$WORK/id-b/root-cert.pem"},
   "peer_authentication": {"mode": "STRICT",
                           "port_modes": {"15007": "PERMISSIVE", "15008": "DISABLE",
                                          "15010": "PERMISSIVE"}},
   "path_normalization": "MERGE_SLASHES",
   "jwt_rules": [{"issuer": "https://issuer.test", "jwks": $JWKS_STRING}],
   "authorization_policies": [
     {"namespace": "foo", "name": "deny-admin", "action": "DENY", "rules": [
       {"to": [{"paths": ["/admin", "/admin/*"], "ports": ["15006", "15007", "15008"]}]}]},
     {"namespace": "foo", "name": "sni-check", "action": "DENY", "rules": [
       {"to": [{"paths": ["/sni/*"], "ports": ["15006", "15007", "15008"]}],
        "when": [{"key": "connection.sni",
                  "not_values": ["outbound_.8000_._.httpbin.foo.svc.cluster.local"]}]}]},
     {"namespace": "foo", "name": "allow", "action": "ALLOW", "rules": [
       {"from": [{"principals": ["cluster.local/ns/foo/sa/sleep"]}]},
       {"from": [{"request_principals": ["https://issuer.test/*"]}]},
       {"to": [{"paths": ["/public/*"]}]}]}]}}
JSON

# --- the client host: proxy A routes to the server host over auto mTLS (endpoint label) for
# HTTP/1.1 and HTTP/2, and to a cluster that expects another service account.
cat >"$WORK/client.json" <<JSON
{"schema": 1, "version": "client-1",
 "listeners": [$(listener outbound outbound 15001)],
 "http_routes": [{"direction": "outbound", "port": 15001, "virtual_hosts": [
   {"name": "httpbin", "domains": ["httpbin.foo"], "routes": [
     {"clusters": [{"cluster": "outbound|8000||httpbin.foo.svc.cluster.local"}]}]},
   {"name": "httpbin-h2", "domains": ["h2.httpbin.foo"], "routes": [
     {"clusters": [{"cluster": "outbound|8000|h2|httpbin.foo.svc.cluster.local"}]}]},
   {"name": "wrong-sa", "domains": ["wrong.httpbin.foo"], "routes": [
     {"clusters": [{"cluster": "outbound|8000|wrong|httpbin.foo.svc.cluster.local"}]}]},
   {"name": "mutual", "domains": ["mutual.httpbin.foo"], "routes": [
     {"clusters": [{"cluster": "outbound|8000|mutual|httpbin.foo.svc.cluster.local"}]}]},
   {"name": "disable", "domains": ["disable.httpbin.foo"], "routes": [
     {"clusters": [{"cluster": "outbound|8000|disable|httpbin.foo.svc.cluster.local"}]}]}]}],
 "clusters": [
   {"name": "outbound|8000||httpbin.foo.svc.cluster.local", "protocol": "http1",
    "endpoints": [{"address": "198.18.1.2", "port": 15006,
                   "labels": {"security.istio.io/tlsMode": "istio"}}]},
   {"name": "outbound|8000|h2|httpbin.foo.svc.cluster.local", "protocol": "http2",
    "endpoints": [{"address": "198.18.1.2", "port": 15006}],
    "tls": {"mode": "istio_mutual",
            "subject_alt_names": ["spiffe://cluster.local/ns/foo/sa/httpbin"]}},
   {"name": "outbound|8000|wrong|httpbin.foo.svc.cluster.local", "protocol": "http1",
    "endpoints": [{"address": "198.18.1.2", "port": 15006}],
    "tls": {"mode": "istio_mutual",
            "subject_alt_names": ["spiffe://cluster.local/ns/foo/sa/not-httpbin"]}},
   {"name": "outbound|8000|mutual|httpbin.foo.svc.cluster.local", "protocol": "http1",
    "endpoints": [{"address": "198.18.1.2", "port": 15006}],
    "tls": {"mode": "mutual", "client_certificate": "$WORK/client/cert-chain.pem",
            "private_key": "$WORK/client/key.pem", "ca_certificates": "$WORK/root/root-cert.pem",
            "subject_alt_names": ["spiffe://cluster.local/ns/foo/sa/httpbin"]}},
   {"name": "outbound|8000|disable|httpbin.foo.svc.cluster.local", "protocol": "http1",
    "endpoints": [{"address": "198.18.1.2", "port": 15006,
                   "labels": {"security.istio.io/tlsMode": "istio"}}],
    "tls": {"mode": "disable"}}],
 "security": {
   "identity": {"cert_chain": "$WORK/id-a/cert-chain.pem", "key": "$WORK/id-a/key.pem",
                "root_cert": "$WORK/id-a/root-cert.pem"}}}
JSON

bg "$SERVER" proxy-b "$PROXY_BIN" --snapshot "$WORK/server.json" --concurrency 2 --log-level info
bg "$CLIENT" proxy-a "$PROXY_BIN" --snapshot "$WORK/client.json" --concurrency 2 --log-level info
wait_port "$SERVER" 198.18.1.2 15006
wait_port "$CLIENT" 127.0.0.1 15001

SLEEP_XFCC='URI=spiffe://cluster.local/ns/foo/sa/sleep'

# --- two proxies: mTLS with mesh ALPN and SNI, identity reported by the inbound side
out=$(C curl -s -m 5 -H 'Host: httpbin.foo' http://127.0.0.1:15001/public/hello)
expect_match "A->B over auto mTLS: upstream sees the client's identity" \
  "^app uri=/public/hello xfcc=By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=[0-9a-f]{64};.*$SLEEP_XFCC" "$out"
out=$(C curl -s -m 5 -H 'Host: httpbin.foo' http://127.0.0.1:15001/sni/x)
expect_match "A->B: SNI outbound_.8000_._.httpbin.foo.svc.cluster.local (sni-check passes)" \
  "^app uri=/sni/x" "$out"
out=$(C curl -s -m 5 -H 'Host: h2.httpbin.foo' http://127.0.0.1:15001/private)
expect_match "A->B istio_mutual over HTTP/2 (istio-h2), expected SAN matches" "$SLEEP_XFCC" "$out"
expect_eq "B served the HTTP/2 hop as HTTP/2 (ALPN istio-h2)" 1 \
  "$(stat_value "$SERVER" 15000 downstream_cx_http2_total)"
code=$(C curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Host: wrong.httpbin.foo' http://127.0.0.1:15001/)
expect_eq "A refuses B when B is not the expected service account" 503 "$code"
out=$(C curl -s -m 5 -H 'Host: mutual.httpbin.foo' http://127.0.0.1:15001/private)
expect_match "A->B with DestinationRule MUTUAL (user files, SAN checked)" "$SLEEP_XFCC" "$out"
code=$(C curl -s -o /dev/null -w '%{http_code}' -m 5 -H 'Host: disable.httpbin.foo' http://127.0.0.1:15001/)
expect_eq "DestinationRule DISABLE wins over auto mTLS: STRICT B refuses the plaintext" 503 "$code"
out=$(C curl -s -m 5 -H 'Host: httpbin.foo' -H 'x-forwarded-client-cert: By=forged' \
  http://127.0.0.1:15001/public/forged)
expect_match "a forged x-forwarded-client-cert is replaced" "xfcc=By=spiffe://.*$SLEEP_XFCC$" "$out"

# --- STRICT / PERMISSIVE / DISABLE against real clients
https() {  # PORT CERTDIR PATH: the status code curl gets with that client certificate
  local certs=()
  [[ -n $2 ]] && certs=(--cert "$WORK/$2/cert-chain.pem" --key "$WORK/$2/key.pem")
  C curl -s -k -o /dev/null -w '%{http_code}' -m 5 "${certs[@]}" "https://198.18.1.2:$1$3" || true
}
plain() { C curl -s -o /dev/null -w '%{http_code}' -m 5 "http://198.18.1.2:$1$2" || true; }

expect_eq "STRICT: plaintext is refused (connection closed)" 000 "$(plain 15006 /public/x)"
expect_eq "STRICT: valid mTLS passes" 200 "$(https 15006 client /private)"
for bad in stranger expired wrongtd nosan twosans; do
  expect_eq "STRICT: $bad certificate is refused" 000 "$(https 15006 $bad /private)"
done
expect_eq "STRICT: TLS without a client certificate is refused" 000 "$(https 15006 "" /private)"
expect_eq "PERMISSIVE: plaintext passes" 200 "$(plain 15007 /public/x)"
expect_eq "PERMISSIVE: valid mTLS passes" 200 "$(https 15007 client /private)"
expect_eq "PERMISSIVE: certificate from another root is refused" 000 "$(https 15007 stranger /private)"
expect_eq "PERMISSIVE: expired certificate is refused" 000 "$(https 15007 expired /private)"
expect_eq "DISABLE: plaintext passes" 200 "$(plain 15008 /public/x)"
expect_eq "DISABLE: TLS is not served" 000 "$(https 15008 client /private)"

s_client() {  # PORT CERTDIR ALPN: one request over openssl s_client, its output
  printf 'GET /private HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    C timeout 5 openssl s_client -connect 198.18.1.2:$1 -CAfile "$WORK/root/root-cert.pem" \
      -cert "$WORK/$2/cert-chain.pem" -key "$WORK/$2/key.pem" -alpn "$3" \
      -servername outbound_.8000_._.httpbin.foo.svc.cluster.local -ign_eof 2>&1 || true
}
out=$(s_client 15006 client istio-http/1.1,http/1.1)
expect_match "s_client: ALPN istio-http/1.1 selected" "ALPN protocol: istio-http/1.1" "$out"
expect_match "s_client: served over mTLS with its identity forwarded" "200 OK.*$SLEEP_XFCC" "$(tr -d '\r\n' <<<"$out")"
expect_match "s_client: the server presents spiffe://cluster.local/ns/foo/sa/httpbin" \
  "URI:spiffe://cluster.local/ns/foo/sa/httpbin" \
  "$(printf '' | C timeout 5 openssl s_client -connect 198.18.1.2:15006 -cert "$WORK/client/cert-chain.pem" \
      -key "$WORK/client/key.pem" -alpn istio 2>/dev/null | openssl x509 -noout -ext subjectAltName 2>&1)"
out=$(s_client 15006 wrongtd istio-http/1.1)
if grep -q "200 OK" <<<"$out"; then fail "s_client: wrong trust domain served"
else expect_match "s_client: wrong trust domain refused with an alert" "alert" "$out"; fi

# --- authorization and JWT
expect_eq "authz: /admin denied (403) even over mTLS" 403 "$(https 15006 client /admin)"
for attempt in /public/../admin //admin /./admin /%61dmin /admin/ /ADMIN/../admin; do
  code=$(C curl -s --path-as-is -k -o /dev/null -w '%{http_code}' -m 5 "http://198.18.1.2:15007$attempt")
  expect_eq "authz: $attempt is normalized and denied" 403 "$code"
done
expect_eq "authz: plaintext without principal or token denied" 403 "$(plain 15007 /private)"
expect_eq "authz: another service account denied" 403 "$(https 15007 other /private)"
jwt() { C curl -s -o /dev/null -w '%{http_code}' -m 5 -H "Authorization: Bearer $1" "http://198.18.1.2:15007$2"; }
expect_eq "JWT: valid token is a request principal the ALLOW policy accepts" 200 "$(jwt "$GOOD_TOKEN" /private)"
expect_eq "JWT: expired token 401" 401 "$(jwt "$EXPIRED_TOKEN" /private)"
expect_eq "JWT: wrong issuer 401" 401 "$(jwt "$WRONG_ISS_TOKEN" /private)"
expect_eq "JWT: tampered token 401" 401 "$(jwt "${GOOD_TOKEN%?}x" /private)"
expect_eq "JWT: invalid token 401 even where authz would allow" 401 "$(jwt garbage.token.here /public/x)"

# TCP: a plaintext connection matches no ALLOW rule and is closed; the mesh peer is relayed.
out=$(echo tcp-hello | C timeout 3 socat - TCP:198.18.1.2:15010 2>&1 || true)
expect_eq "authz TCP: plaintext connection closed without data" "" "$out"
out=$( (echo tcp-hello; sleep 1) | C timeout 5 openssl s_client -quiet -connect 198.18.1.2:15010 \
  -cert "$WORK/client/cert-chain.pem" -key "$WORK/client/key.pem" -alpn istio 2>/dev/null || true)
expect_eq "authz TCP: mTLS peer sleep relayed to the echo server" tcp-hello "$out"
out=$( (echo tcp-hello; sleep 1) | C timeout 5 openssl s_client -quiet -connect 198.18.1.2:15010 \
  -cert "$WORK/other/cert-chain.pem" -key "$WORK/other/key.pem" -alpn istio 2>/dev/null || true)
expect_eq "authz TCP: mTLS peer of another account closed" "" "$out"

# --- rotation under load: both identities are replaced while h2load runs through the mTLS hop
C h2load -n 60000 -c 4 -m 8 -H ':authority: httpbin.foo' http://127.0.0.1:15001/public/load \
  >"$WORK/h2load.log" 2>&1 &
H2LOAD=$!
PIDS+=($H2LOAD)
"$CERTS" workload --root "$WORK/root" --out "$WORK/server2" --ns foo --sa httpbin --hours 2 >/dev/null
"$CERTS" workload --root "$WORK/root" --out "$WORK/client2" --ns foo --sa sleep --hours 2 >/dev/null
for f in key.pem cert-chain.pem; do  # the key first: a half-done rotation is retried, not taken
  cp "$WORK/server2/$f" "$WORK/id-b/$f.new" && mv "$WORK/id-b/$f.new" "$WORK/id-b/$f"
  cp "$WORK/client2/$f" "$WORK/id-a/$f.new" && mv "$WORK/id-a/$f.new" "$WORK/id-a/$f"
done
rotated() { grep -q "identity rotated" "$WORK/proxy-a.log" && grep -q "identity rotated" "$WORK/proxy-b.log"; }
for _ in $(seq 50); do rotated && break; sleep 0.05; done
if rotated && kill -0 $H2LOAD 2>/dev/null; then pass "both identities rotated while h2load was running"
else fail "rotation not seen while h2load was running"; fi
wait $H2LOAD || true
load=$(cat "$WORK/h2load.log")
expect_match "h2load through the mTLS hop during rotation: all 60000 succeeded" \
  "requests: 60000 total, 60000 started, 60000 done, 60000 succeeded, 0 failed, 0 errored" "$load"
expect_match "h2load: every response 2xx" "status codes: 60000 2xx" "$load"
want=$(openssl x509 -in "$WORK/server2/cert-chain.pem" -noout -fingerprint -sha256)
got=$(printf '' | C timeout 5 openssl s_client -connect 198.18.1.2:15006 -cert "$WORK/client2/cert-chain.pem" \
  -key "$WORK/client2/key.pem" -alpn istio 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
expect_eq "after rotation new handshakes present the new certificate" "$want" "$got"
expect_match "after rotation A->B still works" "$SLEEP_XFCC" \
  "$(C curl -s -m 5 -H 'Host: httpbin.foo' http://127.0.0.1:15001/public/after)"

# --- the expiry gauges on /stats/prometheus follow the rotation
not_after=$(date -d "$(openssl x509 -in "$WORK/server2/cert-chain.pem" -noout -enddate | cut -d= -f2)" +%s)
expect_eq "expiry gauge: proxy B shows the rotated certificate's notAfter for its SPIFFE ID" \
  "$not_after" "$(ip netns exec "$SERVER" curl -s http://127.0.0.1:15000/stats/prometheus | awk \
  '$1 == "meshnode_proxy_workload_cert_not_after_seconds{spiffe_id=\"spiffe://cluster.local/ns/foo/sa/httpbin\"}" { print $2 }')"

finish
