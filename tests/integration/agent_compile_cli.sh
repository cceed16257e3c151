#!/usr/bin/env bash
# meshnode-agent compile, end to end on real files: a broken manifest is named by file, line and
# field on stderr, the rest of the mesh still compiles to a snapshot, and the exit status says so.
set -euo pipefail
agent="$MESHNODE_BUILD/agent/meshnode-agent"
work=$(mktemp -d "/tmp/mncompile$$.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/good.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.0.2}]
YAML
cat >"$work/broken.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http:
  - route:
    - destination:
        subset: v1
YAML

args=(compile --config-dir "$work" --node-ns shop --node-labels app=client --node-ip 198.18.0.9)
status=0
"$agent" "${args[@]}" >"$work/out.json" 2>"$work/err.txt" || status=$?
[[ $status -eq 65 ]] || { echo "expected exit 65, got $status"; cat "$work/err.txt"; exit 1; }
grep -q "broken.yaml:9: VirtualService shop/web: spec.http\[0\].route\[0\].destination.host: is required" \
  "$work/err.txt" || { echo "error line missing:"; cat "$work/err.txt"; exit 1; }
python3 - "$work/out.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == 1
names = [c["name"] for c in doc["clusters"]]
assert "outbound|80||web.shop.svc.cluster.local" in names, names
PY

rm "$work/broken.yaml"
"$agent" "${args[@]}" >"$work/out2.json" 2>"$work/err2.txt" || { echo "clean mesh failed"; cat "$work/err2.txt"; exit 1; }

status=0
"$agent" compile --config-dir "$work" --node-ns shop --node-ip not-an-ip >/dev/null 2>"$work/err3.txt" || status=$?
[[ $status -eq 78 ]] || { echo "expected exit 78 for a bad node ip, got $status"; exit 1; }
grep -q 'node ip: "not-an-ip" is not a numeric IP address' "$work/err3.txt"

status=0
"$agent" compile --node-ns shop >/dev/null 2>"$work/err4.txt" || status=$?
[[ $status -eq 64 ]] || { echo "expected exit 64 for a usage error, got $status"; exit 1; }
grep -q -- "--config-dir is required" "$work/err4.txt"
echo "agent compile CLI: ok"
