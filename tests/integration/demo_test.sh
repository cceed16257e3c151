#!/usr/bin/env bash
# The README's demo command works and shows what it promises: captured calls routed by the
# mesh's VirtualService (the split and the header match) and no rules left behind.
source "$(dirname "$0")/lib.sh"

out=$("$MESHNODE_SRC/scripts/demo.sh" 2>&1) || { echo "$out"; fail "demo exits 0"; finish; }
pass "demo exits 0"
expect_match "calls routed to v1" "[0-9]+ reviews v1 \(198.18.0.2\) /book" "$out"
expect_match "the route's response header" "x-demo-route: canary-80-20" "$out"
expect_match "header match sends jason to v2" "reviews v2 \(198.18.0.3\) /"$'\n' "$out"
expect_match "requests counted by the proxy" "downstream_rq_total (2[0-9]|[3-9][0-9])" "$out"
expect_match "capture removed" "ISTIO rules left: 0" "$out"
finish
