#!/usr/bin/env bash
# The agent's sd_notify messages arrive on a NOTIFY_SOCKET the test binds, as systemd would
# receive them: STATUS= and READY=1, WATCHDOG=1 repeatedly when WATCHDOG_USEC asks for it,
# STOPPING=1 on SIGTERM.
set -euo pipefail
tool="$MESHNODE_BUILD/tests/meshnode-agent-testtool"
work=$(mktemp -d /tmp/meshnode-agent-notify.XXXXXX)
listener=""
agent=""

cleanup() {
  [[ -n $agent ]] && kill "$agent" 2>/dev/null || true
  [[ -n $listener ]] && kill "$listener" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  cat "$work/messages" >&2 || true
  exit 1
}

python3 - "$work/notify" "$work/messages" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
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
listener=$!
for _ in $(seq 50); do [[ -S $work/notify ]] && break; sleep 0.1; done
[[ -S $work/notify ]] || fail "listener did not bind"

# WATCHDOG_PID must name the notifying process itself, as systemd sets it.
(
  export NOTIFY_SOCKET="$work/notify" WATCHDOG_USEC=400000
  export WATCHDOG_PID=$BASHPID
  exec "$tool" notify
) >"$work/agent.out" 2>&1 &
agent=$!

for _ in $(seq 100); do
  (($(grep -c '^WATCHDOG=1$' "$work/messages" 2>/dev/null || true) >= 3)) && break
  sleep 0.1
done
kill -TERM "$agent"
wait "$agent" || fail "agent exited $?"
agent=""
wait "$listener" || true
listener=""

grep -qx 'STATUS=starting: applying capture' "$work/messages" || fail "no starting status"
grep -qx 'READY=1' "$work/messages" || fail "no READY=1"
(($(grep -c '^WATCHDOG=1$' "$work/messages") >= 3)) || fail "fewer than 3 watchdog pings"
# READY=1 precedes the first ping and STOPPING=1 follows the last.
ready=$(grep -nx 'READY=1' "$work/messages" | cut -d: -f1)
first_ping=$(grep -nx 'WATCHDOG=1' "$work/messages" | head -1 | cut -d: -f1)
last_ping=$(grep -nx 'WATCHDOG=1' "$work/messages" | tail -1 | cut -d: -f1)
stopping=$(grep -nx 'STOPPING=1' "$work/messages" | cut -d: -f1)
[[ -n $stopping ]] || fail "no STOPPING=1"
((ready < first_ping && last_ping < stopping)) || fail "messages out of order"
grep -q "watchdog every 200000 us" "$work/agent.out" || fail "ping interval is not half of WATCHDOG_USEC"
echo "PASS agent_notify"
