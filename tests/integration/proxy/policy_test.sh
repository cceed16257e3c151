#!/usr/bin/env bash
# Traffic policy through the real proxy and real upstreams: weighted split, header and URI
# matches, retries, fault injection, mirroring, CORS, outlier detection, consistent hashing and
# connection pool limits. Rates are asserted within tolerance bands; the only timing asserted is
# that a delayed request took at least its delay.
source "$(dirname "$0")/../lib.sh"

CLIENT=$(make_ns pclient)  # the proxy and its clients
PEER=$(make_ns ppeer)      # the upstreams
link_ns "$CLIENT" 198.18.0.1/24 "$PEER" 198.18.0.2/24
PEER_PY="$MESHNODE_SRC/tests/integration/proxy/policy_peer.py"

nginx_conf "$WORK/peer.conf" "
  server { listen 198.18.0.2:8001; location / { return 200 'v1\n'; } }
  server { listen 198.18.0.2:8002; location / { return 200 'v2\n'; } }"
bg "$PEER" nginx nginx -c "$WORK/peer.conf"
touch "$WORK/toggle-fail"
bg "$PEER" flaky /usr/bin/python3 "$PEER_PY" flaky 198.18.0.2 7001
bg "$PEER" toggle /usr/bin/python3 "$PEER_PY" toggle 198.18.0.2 7002 "$WORK/toggle-fail"
bg "$PEER" record /usr/bin/python3 "$PEER_PY" record 198.18.0.2 7003 "$WORK/mirrored"
bg "$PEER" slow /usr/bin/python3 "$PEER_PY" record 198.18.0.2 7004 "$WORK/slow-seen"
for p in 8001 8002 7001 7002 7003 7004; do wait_port "$PEER" 198.18.0.2 $p; done

ep() { echo "{\"address\": \"198.18.0.2\", \"port\": $1}"; }
cat >"$WORK/snapshot.json" <<JSON
{"schema": 1, "version": "policy",
 "listeners": [{"name": "front", "address": "198.18.0.1", "port": 15001,
                "use_original_dst": false, "unmatched": "refuse"}],
 "http_routes": [{"port": 0, "virtual_hosts": [
   {"name": "policy", "domains": ["*"], "routes": [
     {"name": "by-header", "match": {"path": {"prefix": "/match/"},
        "headers": [{"name": "x-version", "exact": "v2"}]}, "clusters": [{"cluster": "v2"}]},
     {"name": "by-uri", "match": {"path": {"prefix": "/match/v2/"}}, "clusters": [{"cluster": "v2"}]},
     {"name": "match-default", "match": {"path": {"prefix": "/match/"}}, "clusters": [{"cluster": "v1"}]},
     {"name": "split", "match": {"path": {"prefix": "/split"}},
      "clusters": [{"cluster": "v1", "weight": 90}, {"cluster": "v2", "weight": 10}]},
     {"name": "retried", "match": {"path": {"prefix": "/retry"}}, "clusters": [{"cluster": "flaky"}],
      "retries": {"attempts": 2, "retry_on": ["5xx"]}},
     {"name": "per-try", "match": {"path": {"prefix": "/slow/"}}, "clusters": [{"cluster": "slow-or-v1"}],
      "retries": {"attempts": 1, "per_try_timeout_ms": 300, "retry_on": ["reset"]}},
     {"name": "connect-retry", "match": {"path": {"prefix": "/connect"}}, "clusters": [{"cluster": "dead-or-v1"}],
      "retries": {"attempts": 1, "retry_on": ["connect-failure"]}},
     {"name": "not-retried", "match": {"path": {"prefix": "/noretry"}}, "clusters": [{"cluster": "flaky"}]},
     {"name": "abort", "match": {"path": {"prefix": "/abort"}}, "clusters": [{"cluster": "v1"}],
      "fault": {"abort_status": 418, "abort_percent": 25}},
     {"name": "delay", "match": {"path": {"prefix": "/delay"}}, "clusters": [{"cluster": "v1"}],
      "fault": {"delay_ms": 300, "delay_percent": 50}},
     {"name": "mirrored", "match": {"path": {"prefix": "/mirror"}}, "clusters": [{"cluster": "v1"}],
      "mirrors": [{"cluster": "recorder", "percent": 50}, {"cluster": "dead", "percent": 100}]},
     {"name": "cors", "match": {"path": {"prefix": "/cors"}}, "clusters": [{"cluster": "v1"}],
      "cors": {"allow_origins": [{"exact": "https://app.example"}], "allow_methods": ["GET", "PUT"],
               "allow_headers": ["x-token"], "expose_headers": ["x-trace"], "max_age_ms": 600000}},
     {"name": "outlier", "match": {"path": {"prefix": "/outlier"}}, "clusters": [{"cluster": "outlier"}]},
     {"name": "hash", "match": {"path": {"prefix": "/hash"}}, "clusters": [{"cluster": "hashed"}]},
     {"name": "limited", "match": {"path": {"prefix": "/limited"}}, "clusters": [{"cluster": "limited"}],
      "prefix_rewrite": "/slow"},
     {"name": "pending", "match": {"path": {"prefix": "/pending"}}, "clusters": [{"cluster": "pending"}],
      "prefix_rewrite": "/slow"}]}]}],
 "clusters": [
   {"name": "v1", "protocol": "http1", "endpoints": [$(ep 8001)]},
   {"name": "v2", "protocol": "http1", "endpoints": [$(ep 8002)]},
   {"name": "flaky", "protocol": "http1", "endpoints": [$(ep 7001)]},
   {"name": "slow-or-v1", "protocol": "http1", "endpoints": [$(ep 7004), $(ep 8001)]},
   {"name": "dead-or-v1", "protocol": "http1", "endpoints": [$(ep 9), $(ep 8001)]},
   {"name": "recorder", "protocol": "http1", "endpoints": [$(ep 7003)]},
   {"name": "dead", "protocol": "http1", "endpoints": [$(ep 9)]},
   {"name": "outlier", "protocol": "http1", "endpoints": [$(ep 8001), $(ep 7002)],
    "outlier_detection": {"consecutive_5xx": 3, "interval_ms": 200, "base_ejection_time_ms": 1000,
                          "max_ejection_percent": 50}},
   {"name": "hashed", "protocol": "http1", "endpoints": [$(ep 8001), $(ep 8002)],
    "consistent_hash": {"header": "x-user"}},
   {"name": "limited", "protocol": "http1", "max_requests": 1, "endpoints": [$(ep 7004)]},
   {"name": "pending", "protocol": "http1", "max_connections": 1, "max_pending_requests": 1,
    "endpoints": [$(ep 7004)]}]}
JSON

bg "$CLIENT" proxy "$PROXY_BIN" --snapshot "$WORK/snapshot.json" --concurrency 1
wait_port "$CLIENT" 127.0.0.1 15000
wait_port "$CLIENT" 198.18.0.1 15001
C() { ip netns exec "$CLIENT" "$@"; }
URL=http://198.18.0.1:15001

# count WORD TEXT: lines of TEXT equal to WORD.
count() { grep -cx "$1" <<<"$2" || true; }
# within WHAT LOW HIGH VALUE
within() {
  if ((${4:-0} >= $2 && ${4:-0} <= $3)); then pass "$1 ($4 in $2..$3)"; else fail "$1: ${4:-none} not in $2..$3"; fi
}

# --- weighted split: 2,000 requests on kept-alive connections, 90/10 within 3 points.
out=$(C curl -sS -m 60 "$URL/split/[1-2000]")
v1=$(count v1 "$out")
v2=$(count v2 "$out")
expect_eq "split answered every request" 2000 $((v1 + v2))
within "90/10 split: share of v1 in per mille" 870 930 $((v1 * 1000 / 2000))

# --- header and URI matches pick the right subset.
expect_eq "header match picks v2" v2 "$(C curl -sS -m 5 -H 'x-version: v2' "$URL/match/x")"
expect_eq "other header value falls through to v1" v1 "$(C curl -sS -m 5 -H 'x-version: v3' "$URL/match/x")"
expect_eq "URI prefix match picks v2" v2 "$(C curl -sS -m 5 "$URL/match/v2/x")"
expect_eq "no match: default v1" v1 "$(C curl -sS -m 5 "$URL/match/other")"

# --- retries: the upstream fails every other request; retried, every answer is a 200.
codes=$(for i in $(seq 1 20); do C curl -s -o /dev/null -w '%{http_code}\n' -m 5 "$URL/noretry"; done)
within "without retries the flaky upstream fails half the time" 8 12 "$(count 503 "$codes")"
retries_before=$(stat_value "$CLIENT" 15000 upstream_rq_retry)
codes=$(for i in $(seq 1 20); do C curl -s -o /dev/null -w '%{http_code}\n' -m 5 "$URL/retry"; done)
expect_eq "retries turn every first-attempt 503 into 200" 20 "$(count 200 "$codes")"
within "retries counted" 8 20 $(($(stat_value "$CLIENT" 15000 upstream_rq_retry) - retries_before))

# A try the slow endpoint does not answer within the per-try timeout, and a try whose connect
# is refused, go again to the other endpoint.
out=$(for i in 1 2 3 4; do C curl -sS -m 10 "$URL/slow/3000"; done)
expect_eq "per-try timeout retried on the other endpoint" 4 "$(count v1 "$out")"
out=$(for i in 1 2 3 4; do C curl -sS -m 10 "$URL/connect"; done)
expect_eq "connect failure retried on the other endpoint" 4 "$(count v1 "$out")"

# --- fault injection: aborts at 25% of 400 requests, delays at 50% of 40.
out=$(C curl -s -m 60 -o /dev/null -w '%{http_code}\n' "$URL/abort/[1-400]")
within "aborts at 25% of 400 requests" 60 140 "$(count 418 "$out")"
expect_eq "the rest reach the upstream" 400 $(($(count 418 "$out") + $(count 200 "$out")))
delays_before=$(stat_value "$CLIENT" 15000 fault_delays_injected)
times=$(C curl -s -m 60 -o /dev/null -w '%{time_total}\n' "$URL/delay/[1-40]")
delayed=$(($(stat_value "$CLIENT" 15000 fault_delays_injected) - delays_before))
slow=$(awk '$1 >= 0.3' <<<"$times" | wc -l)
within "delays at 50% of 40 requests" 8 32 "$delayed"
if ((slow >= delayed)); then pass "each delayed request took at least 300 ms"; else
  fail "$delayed delayed but only $slow took 300 ms"; fi

# --- mirroring: half the requests copied to the recorder (with -shadow), the dead mirror and
# the copies never touch the answers.
out=$(C curl -sS -m 60 -H 'host: shop.mesh' "$URL/mirror/[1-200]")
expect_eq "mirrored route answers every request" 200 "$(count v1 "$out")"
sleep 0.5
mirrored=$(wc -l <"$WORK/mirrored" 2>/dev/null || echo 0)
within "mirrored at 50% of 200 requests" 65 135 "$mirrored"
expect_eq "mirror authority carries -shadow" "shop.mesh-shadow" "$(sort -u "$WORK/mirrored")"

# --- CORS.
out=$(C curl -sS -m 5 -D - -o /dev/null -X OPTIONS -H 'origin: https://app.example' \
  -H 'access-control-request-method: PUT' "$URL/cors")
expect_match "preflight answered 200" "^HTTP/1.1 200" "$out"
expect_match "preflight allows the origin" "access-control-allow-origin: https://app.example" "$out"
expect_match "preflight lists methods" "access-control-allow-methods: GET,PUT" "$out"
expect_match "preflight max age in seconds" "access-control-max-age: 600" "$out"
out=$(C curl -sS -m 5 -D - -H 'origin: https://app.example' "$URL/cors")
expect_match "response carries allow-origin" "access-control-allow-origin: https://app.example" "$out"
expect_match "response exposes headers" "access-control-expose-headers: x-trace" "$out"
out=$(C curl -sS -m 5 -D - -H 'origin: https://evil.example' "$URL/cors")
if [[ $out == *access-control-allow-origin* ]]; then fail "other origins get no CORS headers"; else
  pass "other origins get no CORS headers"; fi

# --- outlier detection: the failing endpoint is ejected, then comes back once healthy.
for i in $(seq 1 10); do C curl -s -o /dev/null -m 5 "$URL/outlier"; done
out=$(C curl -sS -m 10 "$URL/outlier/[1-20]")
expect_eq "ejected endpoint receives no traffic" 20 "$(count v1 "$out")"
expect_match "ejection counted" "^[1-9]" "$(stat_value "$CLIENT" 15000 outlier_ejections_total)"
rm -f "$WORK/toggle-fail"
sleep 1.5
out=$(C curl -sS -m 10 "$URL/outlier/[1-20]")
within "ejected endpoint comes back" 5 15 "$(count toggle "$out")"

# --- consistent hash: one user sticks to one endpoint; users spread over both.
out=$(for i in $(seq 1 10); do C curl -sS -m 5 -H 'x-user: alice' "$URL/hash"; done)
expect_eq "one user, one endpoint" 1 "$(sort -u <<<"$out" | wc -l)"
out=$(for u in $(seq 1 30); do C curl -sS -m 5 -H "x-user: user$u" "$URL/hash"; done)
expect_eq "users spread over both endpoints" 2 "$(sort -u <<<"$out" | wc -l)"

# --- connection pool limits answered 503 with x-envoy-overloaded.
C curl -s -m 10 -o "$WORK/limited-1" "$URL/limited/800" &
L1=$!
sleep 0.3
out=$(C curl -sS -m 5 -D - "$URL/limited/0")
expect_match "max_requests overflow answered 503" "^HTTP/1.1 503" "$out"
expect_match "overflow marked x-envoy-overloaded" "x-envoy-overloaded: true" "$out"
wait $L1
expect_eq "the request within the limit succeeds" recorded "$(cat "$WORK/limited-1")"
C curl -s -m 10 -o "$WORK/pending-1" "$URL/pending/800" &
P1=$!
sleep 0.2
C curl -s -m 10 -o "$WORK/pending-2" "$URL/pending/0" &
P2=$!
sleep 0.3
out=$(C curl -sS -m 5 -D - "$URL/pending/0")
expect_match "max_pending_requests overflow answered 503" "^HTTP/1.1 503" "$out"
expect_match "pending overflow marked x-envoy-overloaded" "x-envoy-overloaded: true" "$out"
wait $P1 $P2
expect_eq "the pending request waits for the connection" "recorded recorded" \
  "$(cat "$WORK/pending-1") $(cat "$WORK/pending-2")"

finish
