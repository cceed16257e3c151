# Shared helpers for integration tests: network namespaces, peers, assertions.
# Tests source this file; everything they create is removed by the EXIT trap.
set -euo pipefail

: "${MESHNODE_BUILD:?MESHNODE_BUILD must name the build directory}"
: "${MESHNODE_SRC:?MESHNODE_SRC must name the source directory}"
PROXY_BIN="$MESHNODE_BUILD/proxy/meshnode-proxy"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/meshnode-${TEST_NAME}.XXXXXX")
chmod 755 "$WORK"  # the proxy runs as an unprivileged uid and reads its snapshot here
SUFFIX=$$
PIDS=()
FAILURES=0
PASSES=0

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  # Found by this run's suffix rather than from a list: make_ns runs in a command
  # substitution, whose additions to a list the shell would drop.
  for ns in $(ip netns list | awk -v s="-$SUFFIX" '$1 ~ "^mn-" && substr($1, length($1) - length(s) + 1) == s {print $1}'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  if [[ $rc -ne 0 || $FAILURES -ne 0 ]]; then
    echo "--- logs kept in $WORK" >&2
    for f in "$WORK"/*.log; do [[ -f $f ]] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# make_ns NAME: a namespace with loopback up; echoes its full name.
make_ns() {
  local ns="mn-$1-$SUFFIX"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  echo "$ns"
}

# link_ns NS_A ADDR_A NS_B ADDR_B: a veth pair between two namespaces (addresses with /len).
link_ns() {
  local a=$1 addr_a=$2 b=$3 addr_b=$4
  local va="va$SUFFIX$RANDOM" vb="vb$SUFFIX$RANDOM"
  ip link add "${va:0:15}" type veth peer name "${vb:0:15}"
  ip link set "${va:0:15}" netns "$a"
  ip link set "${vb:0:15}" netns "$b"
  ip -n "$a" addr add "$addr_a" dev "${va:0:15}"
  ip -n "$b" addr add "$addr_b" dev "${vb:0:15}"
  ip -n "$a" link set "${va:0:15}" up
  ip -n "$b" link set "${vb:0:15}" up
}

# bg NS LOGNAME CMD...: runs a command in a namespace in the background.
bg() {
  local ns=$1 log=$2
  shift 2
  ip netns exec "$ns" "$@" >"$WORK/$log.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
}

# wait_port NS ADDR PORT: until something listens there (5 s at most).
wait_port() {
  local ns=$1 addr=$2 port=$3
  for _ in $(seq 1 100); do
    if ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on $addr:$port in $ns" >&2
  return 1
}

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILURES=$((FAILURES + 1)); echo "not ok - $*"; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
# expect_match WHAT REGEX ACTUAL
expect_match() {
  if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1: '$3' does not match /$2/"; fi
}

finish() {
  echo "$PASSES passed, $FAILURES failed"
  [[ $FAILURES -eq 0 ]]
}

# nginx_conf FILE LISTEN_BLOCKS: a minimal nginx configuration around the given server blocks.
nginx_conf() {
  local file=$1 servers=$2
  cat >"$file" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx-$(basename "$file" .conf).pid;
error_log stderr;
events { worker_connections 512; }
http {
  access_log off;
  client_max_body_size 100m;
  client_body_temp_path $WORK;
  proxy_temp_path $WORK;
  fastcgi_temp_path $WORK;
  uwsgi_temp_path $WORK;
  scgi_temp_path $WORK;
  $servers
}
CONF
}

# stat_value NS ADMIN_PORT NAME: a counter from the proxy's Prometheus endpoint.
stat_value() {
  ip netns exec "$1" curl -s "http://127.0.0.1:$2/stats/prometheus" |
    awk -v n="meshnode_proxy_$3" '$1 == n { print $2 }'
}
