#!/usr/bin/env bash
# Two agents share a file registry, each probing its own workload (nginx for one, Python's
# http.server for the other) in a namespace of the test's own: each sees the other's entry
# appear healthy, turn unhealthy when its workload stops, and disappear when its agent stops.
set -euo pipefail
tool="$MESHNODE_BUILD/tests/meshnode-agent-testtool"
ns="mnagreg$$"
work=$(mktemp -d /tmp/meshnode-agent-registry.XXXXXX)
mkdir -p "$work/registry" "$work/www"
echo ok >"$work/www/healthz"

cleanup() {
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.out; do echo "== $f" >&2; cat "$f" >&2; done
  exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }
# wait_for FILE PATTERN [FROM]: up to 20 s for a line matching PATTERN at line FROM or later.
wait_for() {
  for _ in $(seq 200); do
    tail -n +"${3:-1}" "$1" 2>/dev/null | grep -qE "$2" && return 0
    sleep 0.1
  done
  fail "no line matching '$2' in $1 from line ${3:-1}"
}
# The pid of the process in our namespace whose command line contains $1.
ns_pid() {
  for p in $(ip netns pids "$ns"); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1"; then
      echo "$p"
      return
    fi
  done
}
next_line() { echo $(($(wc -l <"$1") + 1)); }

ip netns add "$ns"
in_ns ip link set lo up

cat >"$work/nginx.conf" <<CONF
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events {}
http {
  access_log off;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:8081;
    location /healthz { return 200 "ok\n"; }
  }
}
CONF
in_ns nginx -p "$work" -c "$work/nginx.conf" &
in_ns python3 -m http.server 8082 --bind 127.0.0.1 --directory "$work/www" \
  >"$work/python.log" 2>&1 &

for port in 8081 8082; do
  for _ in $(seq 100); do
    in_ns curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
done

common=(--dir "$work/registry" --group ratings-vm --namespace bookinfo --grace-ms 0 --period 1)
in_ns "$tool" registry "${common[@]}" --address 198.18.0.10 --http 8081/healthz \
  >"$work/a.out" 2>"$work/a.err" &
in_ns "$tool" registry "${common[@]}" --address 198.18.0.11 --http 8082/healthz \
  >"$work/b.out" 2>"$work/b.err" &

a=bookinfo/ratings-vm-198-18-0-10
b=bookinfo/ratings-vm-198-18-0-11
wait_for "$work/a.out" "^(ADDED|UPDATED) $b address=198.18.0.11 healthy=true"
wait_for "$work/b.out" "^(ADDED|UPDATED) $a address=198.18.0.10 healthy=true"

# The entry on disk has Istio's shape.
python3 - "$work/registry/bookinfo.ratings-vm-198-18-0-10.json" <<'PY' || fail "entry shape"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["apiVersion"] == "networking.istio.io/v1" and e["kind"] == "WorkloadEntry", e
m = e["metadata"]
assert m["annotations"]["istio.io/autoRegistrationGroup"] == "ratings-vm", m
assert "istio.io/connectedAt" in m["annotations"], m
assert m["ownerReferences"][0]["kind"] == "WorkloadGroup", m
assert e["spec"]["address"] == "198.18.0.10", e
c = e["status"]["conditions"][0]
assert c["type"] == "Healthy" and c["status"] == "True", c
PY

# B's workload stops: A sees B unhealthy.
from=$(next_line "$work/a.out")
kill "$(ns_pid 'http.server 8082')"
wait_for "$work/a.out" "^UPDATED $b address=198.18.0.11 healthy=false" "$from"
grep -q "\"reason\": \"HTTPGetFailed\"" "$work/registry/bookinfo.ratings-vm-198-18-0-11.json" ||
  fail "no HTTPGetFailed reason in B's entry"

# B stops: A sees it disconnected and then gone.
from=$(next_line "$work/a.out")
kill "$(ns_pid "address 198.18.0.11")"
wait_for "$work/a.out" "^REMOVED $b" "$from"
[[ ! -e "$work/registry/bookinfo.ratings-vm-198-18-0-11.json" ]] || fail "B's entry still on disk"
# A is untouched.
[[ -e "$work/registry/bookinfo.ratings-vm-198-18-0-10.json" ]] || fail "A's entry is gone"
grep -q "REMOVED $a" "$work/a.out" && fail "A saw itself removed"
echo "PASS agent_registry"
