#!/usr/bin/env bash
# Capture through iptables-nft (iptables on nf_tables) in network namespaces made here: outbound and inbound
# redirection with original destinations, exemptions, idempotence, verify, rollback, cleanup.
source "$(dirname "$0")/iptables_lib.sh"
run_capture_suite iptables-nft
run_pristine_check iptables-nft
echo "PASS: capture with the iptables-nft backend"
