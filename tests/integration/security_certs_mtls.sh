#!/usr/bin/env bash
# meshnode-certs output against real OpenSSL peers, and the mesh mTLS contexts of security/
# (through security_mtls_probe) against openssl s_client / s_server: the valid identity passes,
# every bad variant (another root, expired, not yet valid, wrong trust domain, no URI SAN, two
# URI SANs, no client certificate, unexpected service account) is refused with its reason.
set -euo pipefail

build=${MESHNODE_BUILD:?}
certs=$build/security/meshnode-certs
probe=$build/tests/integration/security_mtls_probe
ns=secmtls$$
work=$(mktemp -d)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; failures=$((failures + 1)); }
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
in_ns ip link set lo up

# --- issue everything
"$certs" root --out "$work/root" --trust-domain cluster.local >/dev/null
"$certs" root --out "$work/other-root" --trust-domain cluster.local >/dev/null
wl() { local name=$1; shift; "$certs" workload --root "$work/root" --out "$work/$name" --hours 2 "$@" >/dev/null; }
wl server --ns foo --sa httpbin
wl client --ns foo --sa sleep
wl expired --ns foo --sa sleep --expired
wl future --ns foo --sa sleep --not-yet-valid
wl wrongtd --ns foo --sa sleep --trust-domain evil.example
wl nosan --ns foo --sa sleep --no-uri-san
wl twosans --ns foo --sa sleep --extra-uri-san spiffe://cluster.local/ns/foo/sa/admin
"$certs" workload --root "$work/other-root" --out "$work/stranger" --ns foo --sa sleep >/dev/null

# --- the certificate as OpenSSL reads it
text=$(openssl x509 -in "$work/client/cert-chain.pem" -noout -text)
grep -q "URI:spiffe://cluster.local/ns/foo/sa/sleep" <<<"$text" && ok "SPIFFE URI SAN" || bad "SPIFFE URI SAN"
[ "$(grep -c 'URI:' <<<"$text")" = 1 ] && ok "exactly one URI SAN" || bad "exactly one URI SAN"
grep -q "CA:FALSE" <<<"$text" && ok "CA:FALSE" || bad "CA:FALSE"
grep -q "Digital Signature, Key Encipherment" <<<"$text" && ok "key usage" || bad "key usage"
grep -q "TLS Web Server Authentication, TLS Web Client Authentication" <<<"$text" \
  && ok "extended key usage" || bad "extended key usage"
grep -q "NIST CURVE: P-256" <<<"$text" && ok "ECDSA P-256" || bad "ECDSA P-256"
[ "$(stat -c %a "$work/client/key.pem")" = 600 ] && ok "key.pem mode 0600" || bad "key.pem mode"
openssl verify -CAfile "$work/root/root-cert.pem" "$work/client/cert-chain.pem" >/dev/null \
  && ok "openssl verify: valid leaf" || bad "openssl verify: valid leaf"
! openssl verify -CAfile "$work/root/root-cert.pem" "$work/stranger/cert-chain.pem" >/dev/null 2>&1 \
  && ok "openssl verify: another root refused" || bad "openssl verify: another root accepted"
! openssl verify -CAfile "$work/root/root-cert.pem" "$work/expired/cert-chain.pem" >/dev/null 2>&1 \
  && ok "openssl verify: expired refused" || bad "openssl verify: expired accepted"

# --- meshnode-certs check refuses each bad variant with its reason
check() {
  local name=$1 want=$2 out
  out=$("$certs" check --dir "$work/$name" 2>&1) && { bad "check $name: accepted"; return; }
  grep -q -- "$want" <<<"$out" && ok "check $name: $want" || bad "check $name: got '$out'"
}
"$certs" check --dir "$work/client" | grep -q "spiffe://cluster.local/ns/foo/sa/sleep valid for" \
  && ok "check client" || bad "check client"
check expired "expired"
check future "is not valid for another"
check nosan "no URI SAN"
check twosans "2 URI SANs"
cp "$work/root/root-cert.pem" "$work/stranger/root-cert.pem"
check stranger "does not verify against the root bundle"

# --- inbound: our server context against openssl s_client
port=15443
in_ns "$probe" server --dir "$work/server" --port $port --connections 10 >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$work/server.log" 2>/dev/null && break; sleep 0.1; done

seen=1
client() {  # client NAME EXPECT [s_client args...]
  local name=$1 want=$2; shift 2
  local out
  out=$(in_ns timeout 10 openssl s_client -connect 127.0.0.1:$port -CAfile "$work/root/root-cert.pem" \
    -alpn istio-http/1.1,http/1.1 -servername outbound_.8000_._.httpbin.foo.svc.cluster.local \
    -ign_eof "$@" </dev/null 2>&1 || true)
  seen=$((seen + 1))
  for _ in $(seq 50); do [ "$(wc -l <"$work/server.log")" -ge $seen ] && break; sleep 0.1; done
  local line
  line=$(sed -n "${seen}p" "$work/server.log")
  if grep -q -- "$want" <<<"$line"; then ok "inbound $name: $line"; else bad "inbound $name: got '$line'"; fi
  LAST_CLIENT_OUTPUT=$out
}
mtls() { echo -cert "$work/$1/cert-chain.pem" -key "$work/$1/key.pem"; }

# shellcheck disable=SC2046
client valid "accepted spiffe://cluster.local/ns/foo/sa/sleep alpn=istio-http/1.1 sni=outbound_.8000_._.httpbin.foo.svc.cluster.local" $(mtls client)
grep -q "hello spiffe://cluster.local/ns/foo/sa/sleep" <<<"$LAST_CLIENT_OUTPUT" \
  && ok "s_client received data over mTLS" || bad "s_client got no data: $LAST_CLIENT_OUTPUT"
client tls-without-client-cert "refused: handshake: peer did not return a certificate"
# shellcheck disable=SC2046
client another-root "refused: peer certificate: unable to get local issuer certificate" $(mtls stranger)
# shellcheck disable=SC2046
client expired "refused: peer certificate: certificate has expired" $(mtls expired)
# shellcheck disable=SC2046
client not-yet-valid "refused: peer certificate: certificate is not yet valid" $(mtls future)
# shellcheck disable=SC2046
client wrong-trust-domain "refused: peer spiffe://evil.example/ns/foo/sa/sleep is not allowed" $(mtls wrongtd)
# shellcheck disable=SC2046
client no-uri-san "refused: peer: certificate has no URI SAN" $(mtls nosan)
# shellcheck disable=SC2046
client two-uri-sans "refused: peer: certificate has 2 URI SANs" $(mtls twosans)
# shellcheck disable=SC2046
client h2 "accepted spiffe://cluster.local/ns/foo/sa/sleep alpn=istio-h2" $(mtls client) -alpn istio-h2,h2

# Plain HTTP at a TLS-only (STRICT) port.
in_ns timeout 5 curl -s -o /dev/null "http://127.0.0.1:$port/" || true
seen=$((seen + 1))
for _ in $(seq 50); do [ "$(wc -l <"$work/server.log")" -ge $seen ] && break; sleep 0.1; done
line=$(sed -n "${seen}p" "$work/server.log")
grep -q "refused: handshake: http request" <<<"$line" && ok "inbound plaintext: $line" \
  || bad "inbound plaintext: got '$line'"

# --- outbound: our client context against openssl s_server
serve() {  # serve NAME: one s_server with that identity on port+1
  in_ns openssl s_server -accept $((port + 1)) -naccept 1 -cert "$work/$1/cert-chain.pem" \
    -key "$work/$1/key.pem" -CAfile "$work/root/root-cert.pem" -Verify 1 -alpn istio-h2,h2 \
    -quiet >/dev/null 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 50); do in_ns ss -ltn | grep -q ":$((port + 1)) " && break; sleep 0.1; done
}
dial() {  # dial NAME EXPECT [probe args...]
  local name=$1 want=$2; shift 2
  local out
  out=$(in_ns timeout 10 "$probe" client --dir "$work/client" --port $((port + 1)) --alpn istio-h2,h2 \
    --sni outbound_.8000_._.httpbin.foo.svc.cluster.local "$@" 2>&1 || true)
  grep -q -- "$want" <<<"$out" && ok "outbound $name: $out" || bad "outbound $name: got '$out'"
}
serve server
dial expected-identity "connected spiffe://cluster.local/ns/foo/sa/httpbin alpn=istio-h2" \
  --expect-id spiffe://cluster.local/ns/foo/sa/httpbin
serve server
dial unexpected-identity "refused: peer spiffe://cluster.local/ns/foo/sa/httpbin is not allowed" \
  --expect-id spiffe://cluster.local/ns/foo/sa/reviews
cp "$work/root/root-cert.pem" "$work/stranger/root-cert.pem"
serve stranger
dial server-from-another-root "refused: peer certificate:"
serve expired
dial expired-server "refused: peer certificate: certificate has expired"

if ((failures)); then
  echo "server log:"; cat "$work/server.log"
  exit 1
fi
echo "all passed"
