#!/usr/bin/env bash
# Capture through native nftables (table inet meshnode) in network namespaces made here: outbound and inbound
# redirection with original destinations, exemptions, idempotence, verify, rollback, cleanup.
source "$(dirname "$0")/iptables_lib.sh"
run_capture_suite nft
run_pristine_check nft
echo "PASS: capture with the nft backend"
