#!/usr/bin/env bash
# Capture through iptables-legacy in network namespaces made here: outbound and inbound
# redirection with original destinations, exemptions, idempotence, verify, rollback, cleanup.
source "$(dirname "$0")/iptables_lib.sh"
run_capture_suite legacy
echo "PASS: capture with the legacy backend"
