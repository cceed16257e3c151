#!/usr/bin/env bash
# meshnode-agent run under a service manager: on a NOTIFY_SOCKET the test binds, STATUS= lines
# name each start-up step in order, READY=1 comes only after the proxy is ready and the entry
# registered, WATCHDOG=1 pings follow at half of WATCHDOG_USEC, SIGHUP is a RELOADING=1 ..
# READY=1 pair, and SIGTERM ends with STOPPING=1. A settings file with a mistake stops the
# start with one line naming file, line and key; so do an unknown group (exit 78) and a
# missing config directory with no snapshot on disk (exit 66).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent_run_lib.sh"
ensure_proxy_user

HOST=$(make_ns anhost)
write_agent_toml "$WORK/agent.toml" false 'upstreams = ["127.0.0.1:5353"]'
workload_group_yaml >"$WORK/mesh/shop.yaml"

python3 - "$WORK/notify" "$WORK/messages" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        out.write(msg + "\n")
        if msg == "STATUS=stopped":
            break
PY
LISTENER=$!
PIDS+=("$LISTENER")
for _ in $(seq 50); do [[ -S $WORK/notify ]] && break; sleep 0.1; done

ip netns exec "$HOST" bash -c 'export NOTIFY_SOCKET=$1 WATCHDOG_USEC=400000 WATCHDOG_PID=$$;
  exec "$2" run --config "$3"' _ "$WORK/notify" "$AGENT_BIN" "$WORK/agent.toml" \
  >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_ready "$HOST" || fail "agent ready"
for _ in $(seq 1 50); do
  (($(grep -c '^WATCHDOG=1$' "$WORK/messages" || true) >= 3)) && break
  sleep 0.1
done
kill -HUP "$AGENT_PID"
for _ in $(seq 1 50); do
  (($(grep -c '^READY=1$' "$WORK/messages" || true) >= 2)) && break
  sleep 0.1
done
kill -TERM "$AGENT_PID"
status=0
wait "$AGENT_PID" || status=$?
expect_eq "agent exit status" 0 "$status"
wait "$LISTENER" 2>/dev/null || true

line() { grep -nx -m1 "$1" "$WORK/messages" | cut -d: -f1; }
for step in "STATUS=reading $WORK/agent.toml" "STATUS=loading mesh from $WORK/mesh" \
  "STATUS=applying capture" "STATUS=starting DNS proxy on 127.0.0.1:15053" \
  "STATUS=starting proxy $PROXY_BIN as meshnode" \
  "STATUS=waiting for the proxy to be ready on 127.0.0.1:15000" \
  "STATUS=registering shop-vm-198-18-0-1 in the file registry"; do
  n=$(line "$step")
  if [[ -n $n && ${prev:-0} -lt $n ]]; then pass "in order: $step"; else fail "in order: $step"; fi
  prev=${n:-0}
done
ready=$(line 'READY=1')
[[ -n $ready && $ready -gt $prev ]] && pass "READY=1 after registration" || fail "READY=1 after registration"
pings=$(grep -c '^WATCHDOG=1$' "$WORK/messages" || true)
((pings >= 3)) && pass "watchdog pings ($pings)" || fail "watchdog pings ($pings)"
first_ping=$(line 'WATCHDOG=1')
[[ -n $first_ping && $first_ping -gt $ready ]] && pass "pings start after READY=1" || fail "pings start after READY=1"
reloading=$(line 'RELOADING=1')
[[ -n $reloading ]] && pass "SIGHUP sends RELOADING=1" || fail "SIGHUP sends RELOADING=1"
expect_eq "READY=1 again after the reload" 2 "$(grep -c '^READY=1$' "$WORK/messages")"
stopping=$(line 'STOPPING=1')
last_ping=$(grep -nx 'WATCHDOG=1' "$WORK/messages" | tail -1 | cut -d: -f1)
[[ -n $stopping && $stopping -gt $last_ping ]] && pass "STOPPING=1 after the last ping" || fail "STOPPING=1 after the last ping"
grep -qx 'STATUS=stopping: draining the proxy' "$WORK/messages" && pass "drain announced" || fail "drain announced"

# A broken settings file: one line naming file, line and key; exit 78; nothing started.
sed -i 's/^concurrency = 2/concurency = 2/' "$WORK/agent.toml"
status=0
ip netns exec "$HOST" "$AGENT_BIN" run --config "$WORK/agent.toml" >"$WORK/bad.log" 2>&1 || status=$?
expect_eq "bad settings exit status" 78 "$status"
expect_match "bad settings line" "$WORK/agent.toml:[0-9]+:[0-9]+: proxy.concurency: unknown key" \
  "$(cat "$WORK/bad.log")"

# A group the mesh does not define: exit 78 naming it.
sed -i 's/^concurency = 2/concurrency = 2/; s/^group = "shop-vm"/group = "nope"/' "$WORK/agent.toml"
status=0
ip netns exec "$HOST" "$AGENT_BIN" run --config "$WORK/agent.toml" >"$WORK/nogroup.log" 2>&1 || status=$?
expect_eq "unknown group exit status" 78 "$status"
expect_match "unknown group named" "workload group shop/nope" "$(cat "$WORK/nogroup.log")"

# No config directory and no snapshot on disk: exit 66 naming both.
sed -i 's/^group = "nope"/group = "shop-vm"/' "$WORK/agent.toml"
rm -rf "$WORK/mesh" "$WORK/state/snapshot.json"
status=0
ip netns exec "$HOST" "$AGENT_BIN" run --config "$WORK/agent.toml" >"$WORK/nomesh.log" 2>&1 || status=$?
expect_eq "no source and no snapshot exit status" 66 "$status"
expect_match "no source named" "config.directory.*no last good snapshot at $WORK/state/snapshot.json" \
  "$(cat "$WORK/nomesh.log")"
finish
