# Shared by the iptables_*_capture.sh tests: a host namespace (the machine meshnode captures)
# joined by a veth pair to a peer namespace, test peers in both, and one function that runs
# the whole capture story with one backend. Sourced, never run.
set -euo pipefail

src=${MESHNODE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${MESHNODE_BUILD:-$src/build}
bin=$build/iptables/meshnode-iptables
peer_py=$src/tests/integration/iptables_orig_dst.py
python=$(command -v /usr/bin/python3 || command -v python3)
host=mnih$$
peer=mnip$$
pristine=mnix$$
tmp=$(mktemp -d)
# What the command keeps between calls stays in the test's directory.
export MESHNODE_TEST_STATE="--state-dir=$tmp/state"
pids=()

teardown() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$host" 2>/dev/null || true
  ip netns del "$peer" 2>/dev/null || true
  ip netns del "$pristine" 2>/dev/null || true
  rm -rf "$tmp" "/etc/netns/$host"
  [[ -z ${made_etc_netns:-} ]] || rmdir /etc/netns 2>/dev/null || true
}
trap teardown EXIT
trap 'echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: $BASH_COMMAND" >&2' ERR

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }

in_host() { ip netns exec "$host" "$@"; }
in_peer() { ip netns exec "$peer" "$@"; }

# Starts a test peer in a namespace and waits until it listens.
start_peer() {
  local ns=$1 log=$tmp/peer.$RANDOM
  shift
  : >"$log"
  ip netns exec "$ns" "$python" "$peer_py" "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q READY "$log" && return 0
    sleep 0.05
  done
  cat "$log" >&2
  fail "test peer '$*' did not start"
}

setup_namespaces() {
  ip netns add "$host"
  ip netns add "$peer"
  ip link add vh$$ type veth peer name vp$$
  ip link set vh$$ netns "$host"
  ip link set vp$$ netns "$peer"
  in_host ip link set lo up
  in_peer ip link set lo up
  in_host ip addr add 198.18.0.1/24 dev vh$$
  in_peer ip addr add 198.18.0.2/24 dev vp$$
  in_host ip addr add 2001:2::1/64 dev vh$$ nodad
  in_peer ip addr add 2001:2::2/64 dev vp$$ nodad
  in_host ip link set vh$$ up
  in_peer ip link set vp$$ up

  start_peer "$host" serve OUTBOUND 15001
  start_peer "$host" serve INBOUND 15006
  start_peer "$host" serve SSH 22
  start_peer "$host" dns DNS 15053
  start_peer "$peer" serve PEER 8080
}

# What a connection from `ns` as `uid` to host:port is told ("NAME ORIG=addr:port").
dial() {
  local ns=$1 uid=$2 kind=$3 addr=$4 port=$5
  ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
    "$python" "$peer_py" "$kind" "$addr" "$port" 2>&1 || true
}

expect_reply() {
  local what=$1 want=$2 got=$3
  [[ $got == "$want" ]] || fail "$what: expected '$want', got '$got'"
  pass "$what"
}

# The whole ruleset as the operator lists it. Comment lines (timestamps) are dropped and
# packet counters zeroed: the peers' traffic moves the built-in chains' counters.
ruleset() {
  case $1 in
    legacy | iptables-nft)
      local flavour=${1#iptables-}
      { in_host iptables-$flavour-save; in_host ip6tables-$flavour-save; } 2>/dev/null |
        { grep -v '^#' || true; } | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/'
      ;;
    nft) in_host nft list ruleset ;;
  esac
}

# Rules that belong to someone else and must survive apply, rollback and cleanup untouched.
install_foreign_rules() {
  case $1 in
    legacy | iptables-nft)
      local flavour=${1#iptables-}
      for t in iptables ip6tables; do
        in_host $t-$flavour -t nat -A OUTPUT -p tcp --dport 9 -j RETURN
        in_host $t-$flavour -t nat -A PREROUTING -p tcp --dport 9 -j RETURN
        in_host $t-$flavour -A INPUT -p tcp --dport 9 -j ACCEPT
      done
      ;;
    nft)
      in_host nft -f - <<'NFT'
table inet foreign {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp dport 9 accept
	}
}
NFT
      ;;
  esac
}

run_capture_suite() {
  local backend=$1
  local opts=(--backend="$backend" --ipv6=true --proxy-uid=1337 --proxy-gid=1337
              --dns-capture=all --log-level=warning "$MESHNODE_TEST_STATE")
  command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
  setup_namespaces
  install_foreign_rules "$backend"
  local before
  before=$(ruleset "$backend")

  # No tools: one clear error, nothing installed.
  local out rc=0
  out=$(in_host env PATH=/nonexistent "$bin" apply "${opts[@]}" 2>&1) || rc=$?
  [[ $rc == 69 && $out == *"is not installed"* ]] || fail "missing tool: rc=$rc '$out'"
  [[ $(ruleset "$backend") == "$before" ]] || fail "missing tool changed the rules"
  pass "missing tool is one clear error and changes nothing"

  # A failure injected into a first install leaves the host as it was.
  for fault in bad-rule verify; do
    rc=0
    MESHNODE_CAPTURE_FAULT=$fault in_host "$bin" apply "${opts[@]}" >/dev/null 2>&1 || rc=$?
    [[ $rc != 0 ]] || fail "apply with fault $fault succeeded"
    [[ $(ruleset "$backend") == "$before" ]] || fail "fault $fault on a clean host left rules"
    pass "fault '$fault' during a first apply leaves the previous rules"
  done

  in_host "$bin" apply "${opts[@]}" >/dev/null || fail "apply"
  in_host "$bin" verify "${opts[@]}" >/dev/null || fail "verify after apply"
  pass "apply, then verify"

  expect_reply "app outbound IPv4 reaches 15001 with its destination" \
    "OUTBOUND ORIG=198.18.0.2:8080" "$(dial "$host" 65534 tcp 198.18.0.2 8080)"
  expect_reply "app outbound IPv6 reaches 15001 with its destination" \
    "OUTBOUND ORIG=[2001:2::2]:8080" "$(dial "$host" 65534 tcp 2001:2::2 8080)"
  expect_reply "proxy uid's own connection is not captured" \
    "PEER ORIG=198.18.0.2:8080" "$(dial "$host" 1337 tcp 198.18.0.2 8080)"
  expect_reply "proxy uid's own IPv6 connection is not captured" \
    "PEER ORIG=[2001:2::2]:8080" "$(dial "$host" 1337 tcp 2001:2::2 8080)"
  expect_reply "inbound IPv4 to a captured port reaches 15006" \
    "INBOUND ORIG=198.18.0.1:8080" "$(dial "$peer" 65534 tcp 198.18.0.1 8080)"
  expect_reply "inbound IPv6 to a captured port reaches 15006" \
    "INBOUND ORIG=[2001:2::1]:8080" "$(dial "$peer" 65534 tcp 2001:2::1 8080)"
  expect_reply "inbound port 22 still reaches its listener" \
    "SSH ORIG=198.18.0.1:22" "$(dial "$peer" 65534 tcp 198.18.0.1 22)"
  expect_reply "inbound IPv6 port 22 still reaches its listener" \
    "SSH ORIG=[2001:2::1]:22" "$(dial "$peer" 65534 tcp 2001:2::1 22)"
  expect_reply "the proxy calling the host's own address goes through 15006" \
    "INBOUND ORIG=198.18.0.1:8080" "$(dial "$host" 1337 tcp 198.18.0.1 8080)"
  expect_reply "the proxy calling a local service over loopback is not captured" \
    "SSH ORIG=127.0.0.1:22" "$(dial "$host" 1337 tcp 127.0.0.1 22)"
  expect_reply "an app calling a local service over loopback is not captured" \
    "SSH ORIG=127.0.0.1:22" "$(dial "$host" 65534 tcp 127.0.0.1 22)"
  expect_reply "an app's DNS query reaches 15053" \
    "DNS" "$(dial "$host" 65534 udp 198.18.0.2 53)"

  local installed
  installed=$(ruleset "$backend")
  out=$(in_host "$bin" apply "${opts[@]}") || fail "second apply"
  [[ $out == *"nothing changed"* ]] || fail "second apply said '$out'"
  [[ $(ruleset "$backend") == "$installed" ]] || fail "second apply changed the ruleset"
  pass "apply twice leaves the same ruleset"

  # Someone removes a rule: verify says which, apply repairs it.
  case $backend in
    nft) in_host nft flush chain inet meshnode ISTIO_REDIRECT ;;
    *) in_host iptables-${backend#iptables-} -t nat -D ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001 ;;
  esac
  rc=0
  out=$(in_host "$bin" verify "${opts[@]}" 2>&1) || rc=$?
  [[ $rc == 1 && $out == *"15001"* ]] || fail "verify of a tampered ruleset: rc=$rc '$out'"
  pass "verify names the missing rule"
  in_host "$bin" apply "${opts[@]}" >/dev/null || fail "repairing apply"
  [[ $(ruleset "$backend") == "$installed" ]] || fail "repairing apply did not restore the rules"
  pass "apply repairs a tampered ruleset"

  # A failure while changing to other options puts the installed rules back exactly.
  for fault in bad-rule verify; do
    rc=0
    MESHNODE_CAPTURE_FAULT=$fault in_host "$bin" apply "${opts[@]}" \
      --outbound-ports-exclude=25 --exclude-interfaces=vh$$ >/dev/null 2>&1 || rc=$?
    [[ $rc != 0 ]] || fail "apply with fault $fault succeeded"
    [[ $(ruleset "$backend") == "$installed" ]] || fail "fault $fault changed the installed rules"
    pass "fault '$fault' mid-apply leaves the previous rules intact"
  done

  in_host "$bin" cleanup --backend="$backend" "$MESHNODE_TEST_STATE" >/dev/null || fail "cleanup"
  if [[ $(ruleset "$backend") != "$before" ]]; then
    diff -u <(echo "$before") <(ruleset "$backend") >&2 || true
    fail "cleanup did not restore the ruleset from before apply"
  fi
  pass "cleanup leaves the ruleset byte-identical to before apply"
  out=$(in_host "$bin" cleanup --backend="$backend" "$MESHNODE_TEST_STATE") || fail "second cleanup"
  [[ $out == *"nothing changed"* && $(ruleset "$backend") == "$before" ]] ||
    fail "second cleanup: '$out'"
  pass "cleanup with nothing installed is a no-op"
  expect_reply "after cleanup outbound goes direct" \
    "PEER ORIG=198.18.0.2:8080" "$(dial "$host" 65534 tcp 198.18.0.2 8080)"
}

# On a host without any nat table yet (a fresh Debian install), a failed apply and an
# apply + cleanup both leave nothing at all behind: `nft list ruleset` stays empty.
run_pristine_check() {
  local backend=$1
  local opts=(--backend="$backend" --ipv6=true --log-level=error "$MESHNODE_TEST_STATE")
  ip netns add "$pristine"
  local before
  before=$(ip netns exec "$pristine" nft list ruleset)
  MESHNODE_CAPTURE_FAULT=verify ip netns exec "$pristine" "$bin" apply "${opts[@]}" \
    >/dev/null 2>&1 && fail "pristine: apply with a fault succeeded"
  [[ $(ip netns exec "$pristine" nft list ruleset) == "$before" ]] ||
    fail "pristine: a failed apply left tables behind"
  pass "pristine host: a failed apply leaves nothing"
  ip netns exec "$pristine" "$bin" apply "${opts[@]}" >/dev/null || fail "pristine: apply"
  [[ $(ip netns exec "$pristine" nft list ruleset) != "$before" ]] || fail "pristine: no rules"
  ip netns exec "$pristine" "$bin" cleanup "${opts[@]}" >/dev/null || fail "pristine: cleanup"
  if [[ $(ip netns exec "$pristine" nft list ruleset) != "$before" ]]; then
    ip netns exec "$pristine" nft list ruleset >&2
    fail "pristine: cleanup left tables behind"
  fi
  pass "pristine host: apply then cleanup leaves nothing"
}
