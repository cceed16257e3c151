#!/usr/bin/env bash
# The Kubernetes registry against a fake API server (tests/integration/agent_tools/
# fake_kube_api.py) that follows the API's conventions, in a namespace of the test's own: two
# agents create their WorkloadEntries and watch each other's; health writes that meet 409
# Conflict are re-read and retried; a watch whose history is compacted (410 Gone) relists and
# keeps seeing changes; a clean stop marks the entry disconnected. TLS is verified against a
# CA the test makes, and a wrong CA or token is refused.
set -euo pipefail
tool="$MESHNODE_BUILD/tests/meshnode-agent-testtool"
fake="$MESHNODE_SRC/tests/integration/agent_tools/fake_kube_api.py"
ns="mnagkube$$"
work=$(mktemp -d /tmp/meshnode-agent-kube.XXXXXX)

cleanup() {
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do echo "== $f" >&2; cat "$f" >&2; done
  exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }
wait_for() {
  for _ in $(seq 200); do
    tail -n +"${3:-1}" "$1" 2>/dev/null | grep -qE "$2" && return 0
    sleep 0.1
  done
  fail "no line matching '$2' in $1 from line ${3:-1}"
}
next_line() { echo $(($(wc -l <"$1") + 1)); }
ns_pid() {
  for p in $(ip netns pids "$ns"); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1"; then
      echo "$p"
      return
    fi
  done
}
api() {
  in_ns curl -sf --cacert "$work/ca.crt" -H "Authorization: Bearer s3cret-token" -X "$1" \
    "https://127.0.0.1:6443$2"
}

cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
  -subj /CN=meshnode-test-ca -days 1 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
  -out server.csr -subj /CN=kube-apiserver 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
  -days 1 -extfile ext.cnf 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -out other-ca.crt -subj /CN=someone-else -days 1 2>/dev/null
echo "s3cret-token" >token
echo "wrong-token" >bad-token
touch b-healthy

ip netns add "$ns"
in_ns ip link set lo up
in_ns python3 "$fake" 6443 server.crt server.key s3cret-token >fake.out 2>fake.err &
wait_for fake.out serving

kube=(--kubernetes https://127.0.0.1:6443 --token-file "$work/token" --group ratings-vm
      --namespace bookinfo --period 1)

# A CA that did not sign the server, or a token the server does not know: refused, named.
if in_ns "$tool" registry "${kube[@]}" --ca-file "$work/other-ca.crt" --address 198.18.0.9 \
  >wrongca.out 2>wrongca.err; then fail "registered with the wrong CA"; fi
grep -q "certificate verify failed" wrongca.err || fail "wrong CA not explained: $(cat wrongca.err)"
if in_ns "$tool" registry --kubernetes https://127.0.0.1:6443 --token-file "$work/bad-token" \
  --ca-file "$work/ca.crt" --group ratings-vm --namespace bookinfo --address 198.18.0.9 \
  >badtoken.out 2>badtoken.err; then fail "registered with a bad token"; fi
grep -q "HTTP 401" badtoken.err || fail "bad token not explained: $(cat badtoken.err)"

in_ns "$tool" registry "${kube[@]}" --ca-file "$work/ca.crt" --address 198.18.0.10 \
  --exec true >a.out 2>a.err &
in_ns "$tool" registry "${kube[@]}" --ca-file "$work/ca.crt" --address 198.18.0.11 \
  --exec "test -e $work/b-healthy" >b.out 2>b.err &

a=bookinfo/ratings-vm-198-18-0-10
b=bookinfo/ratings-vm-198-18-0-11
wait_for a.out "^(ADDED|UPDATED) $b address=198.18.0.11 healthy=true"
wait_for b.out "^(ADDED|UPDATED) $a address=198.18.0.10 healthy=true"
api GET /apis/networking.istio.io/v1/namespaces/bookinfo/workloadentries/ratings-vm-198-18-0-10 \
  >entry.json || fail "entry not in the API"
python3 - entry.json <<'PY' || fail "entry shape"
import json, sys
e = json.load(open(sys.argv[1]))
m = e["metadata"]
assert m["annotations"]["istio.io/autoRegistrationGroup"] == "ratings-vm", m
assert m["ownerReferences"][0]["kind"] == "WorkloadGroup", m
assert e["status"]["conditions"][0]["status"] == "True", e
PY

# Conflict path: the next two writes meet a newer resourceVersion; B's write still lands.
api POST "/fake/conflicts?n=2" >/dev/null
from=$(next_line a.out)
rm b-healthy
wait_for a.out "^UPDATED $b address=198.18.0.11 healthy=false" "$from"
api GET /fake/stats | grep -q '"conflicts_sent": 2' || fail "conflicts not exercised"
grep -q "conflict with a newer version; re-reading" b.err || fail "B did not retry a conflict"

# 410 path: the server forgets its history; watchers relist and keep up.
api POST /fake/compact >/dev/null
wait_for a.err "expired \(410 Gone\); relisting"
from=$(next_line a.out)
touch b-healthy
wait_for a.out "^UPDATED $b address=198.18.0.11 healthy=true" "$from"

# Clean stop: B's entry is marked disconnected.
from=$(next_line a.out)
kill "$(ns_pid "address 198.18.0.11")"
wait_for a.out "^UPDATED $b address=198.18.0.11 healthy=true disconnected" "$from"
echo "PASS agent_kube_registry"
