#!/usr/bin/env bash
# The packaged service end to end: the .deb built from this build directory is installed with apt
# into a Debian 12 root file system that boots systemd as PID 1 in private PID, mount, network
# and cgroup namespaces; systemctl (through nsenter) loads the unit, the agent checks the
# packaged config, starts and stops under Type=notify (when `meshnode-agent run` exists), and
# removal and purge leave no files, rules or processes behind. docs/packaging.md explains it.
#
# The root file system is debootstrapped once from the mirror apt uses on this machine and kept
# in $MESHNODE_ROOTFS_CACHE (keyed by suite, mirror, architecture and package list); each run
# works on an overlay above it, so the cache is never changed.
set -euo pipefail

: "${MESHNODE_BUILD:?MESHNODE_BUILD must name the build directory}"
: "${MESHNODE_SRC:?MESHNODE_SRC must name the source directory}"

SKIP_ALL=77
if grep -q '^MESHNODE_SANITIZE:BOOL=ON' "$MESHNODE_BUILD/CMakeCache.txt"; then
  echo "skipped: packages are built from the release flavour, not the sanitizer build"
  exit $SKIP_ALL
fi

SUITE=bookworm
BASE_PACKAGES=systemd
CACHE_ROOT=${MESHNODE_ROOTFS_CACHE:-/var/cache/meshnode-test}
WORK=$(mktemp -d /tmp/meshnode-package-systemd.XXXXXX)
ROOT=$WORK/root
INIT_PID=
UNSHARE_PID=
CGROUP=
MOUNTS=()
PASSES=0
FAILURES=0
SKIPS=0

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILURES=$((FAILURES + 1)); echo "not ok - $*"; }
skip() { SKIPS=$((SKIPS + 1)); echo "skipped: $*"; }
note() { echo "# $*"; }

cleanup() {
  local rc=$?
  set +e
  # Killing the namespace's PID 1 kills every process in it; its mounts go with its namespace.
  [[ -n $INIT_PID ]] && kill -9 "$INIT_PID" 2>/dev/null
  [[ -n $UNSHARE_PID ]] && wait "$UNSHARE_PID" 2>/dev/null
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}"
  done
  if [[ -n $CGROUP && -d $CGROUP ]]; then
    for _ in $(seq 1 50); do
      find "$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
      [[ -d $CGROUP ]] || break
      sleep 0.1
    done
    [[ -d $CGROUP ]] && echo "cgroup $CGROUP could not be removed" >&2
  fi
  if [[ $rc -ne 0 || $FAILURES -ne 0 ]]; then
    for f in "$WORK"/*.log; do [[ -f $f ]] && { echo "--- $f" >&2; tail -n 60 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

# The Debian mirror apt uses here: the first deb822 stanza or sources.list line for $SUITE.
find_mirror() {
  if [[ -n ${MESHNODE_TEST_MIRROR:-} ]]; then echo "$MESHNODE_TEST_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v suite="$SUITE" '
    /^[[:space:]]*$/ { if (deb && ok && uri != "") { print uri; exit } deb = ok = 0; uri = ""; next }
    /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
    END { if (deb && ok && uri != "") print uri }' | head -n1)
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -e 's/\[[^]]*\]//' | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
  fi
  [[ -n $uri ]] || { echo "no apt source for $SUITE in /etc/apt" >&2; return 1; }
  echo "$uri"
}

# The cgroup2 hierarchy: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid).
find_cgroup2() {
  local d
  for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [[ $(stat -fc %T "$d" 2>/dev/null) == cgroup2fs ]]; then echo "$d"; return; fi
  done
  echo "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified" >&2
  return 1
}

# make_rootfs DIR MIRROR: minbase Debian with systemd, apt lists fetched, consoles masked.
make_rootfs() {
  local dir=$1 mirror=$2
  command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap
  debootstrap --variant=minbase --include="${BASE_PACKAGES// /,}" "$SUITE" "$dir" "$mirror" \
    >"$WORK/debootstrap.log" 2>&1
  # Gettys would open the host's terminals through the bound /dev; module loading is the
  # host's business.
  local unit
  for unit in console-getty.service getty@.service serial-getty@.service getty-static.service \
    systemd-modules-load.service; do
    ln -sf /dev/null "$dir/etc/systemd/system/$unit"
  done
  chroot "$dir" apt-get update >"$WORK/apt-update.log" 2>&1
  chroot "$dir" apt-get clean
}

# in_ns CMD...: runs a command inside the booted system (its namespaces and root).
in_ns() {
  nsenter -t "$INIT_PID" -m -p -n -C -r -w -- /usr/bin/env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# --- the package ------------------------------------------------------------------------------
(cd "$WORK" && cpack -G DEB --config "$MESHNODE_BUILD/CPackConfig.cmake" -B "$WORK/pkg") \
  >"$WORK/cpack.log" 2>&1
DEB=$(ls "$WORK"/pkg/meshnode_*.deb)
dpkg-deb -c "$DEB" | awk '{ print substr($6, 2) }' | grep -v '/$' >"$WORK/files"
note "package $(basename "$DEB"), $(wc -l <"$WORK/files") files"

# --- the root file system ---------------------------------------------------------------------
MIRROR=$(find_mirror)
ARCH=$(dpkg --print-architecture)
KEY=$(printf '%s\n' "$SUITE" "$MIRROR" "$ARCH" minbase "$BASE_PACKAGES" v1 | sha256sum | cut -c1-16)
CACHE=$CACHE_ROOT/rootfs/$KEY
mkdir -p "$CACHE_ROOT/rootfs" "$CACHE_ROOT/archives/partial"
(
  flock 9
  if [[ ! -f $CACHE/.complete ]]; then
    note "debootstrap $SUITE from $MIRROR into $CACHE (first run on this machine)"
    rm -rf "$CACHE" "$CACHE.new"
    make_rootfs "$CACHE.new" "$MIRROR"
    mv "$CACHE.new" "$CACHE"
    touch "$CACHE/.complete"
  fi
) 9>"$CACHE_ROOT/rootfs/.lock"

mkdir -p "$ROOT" "$WORK/upper" "$WORK/overlay-work"
mount -t overlay overlay -o "lowerdir=$CACHE,upperdir=$WORK/upper,workdir=$WORK/overlay-work" \
  "$ROOT"
MOUNTS+=("$ROOT")
# Downloaded packages outlive the run, so later runs need no network.
mount --bind "$CACHE_ROOT/archives" "$ROOT/var/cache/apt/archives"
MOUNTS+=("$ROOT/var/cache/apt/archives")
cp "$DEB" "$ROOT/root/"
DEB_IN_ROOT=/root/$(basename "$DEB")
# The booted system has no network, so the dependencies are fetched now, with the host's
# network and name servers.
if [[ -f $ROOT/etc/resolv.conf && ! -L $ROOT/etc/resolv.conf ]]; then
  mount --bind /etc/resolv.conf "$ROOT/etc/resolv.conf"
  MOUNTS+=("$ROOT/etc/resolv.conf")
fi
if ! chroot "$ROOT" apt-get install -y --download-only "$DEB_IN_ROOT" >"$WORK/apt-download.log" 2>&1; then
  chroot "$ROOT" apt-get update >>"$WORK/apt-download.log" 2>&1
  chroot "$ROOT" apt-get install -y --download-only "$DEB_IN_ROOT" >>"$WORK/apt-download.log" 2>&1
fi

# --- boot -------------------------------------------------------------------------------------
CGROUP2=$(find_cgroup2)
CGROUP=$CGROUP2$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup | sed 's:/$::')/meshnode-pkgtest-$$
mkdir "$CGROUP"
cat >"$WORK/boot.sh" <<'EOF'
# Runs as PID 1 of the new namespaces: the mounts a container manager makes, then systemd.
set -eu
root=$1
mount -t proc proc "$root/proc"
# Kernel settings are the host's, except the network's, which belong to this namespace.
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro "$root/proc/sys"
mount --rbind /sys "$root/sys"
mount -o remount,bind,ro "$root/sys"
# A cgroup2 mount inside the cgroup namespace is rooted at the test's own cgroup.
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
mount --rbind /dev "$root/dev"
mount --bind /dev/null "$root/dev/console"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
cd "$root"
exec chroot "$root" /usr/bin/env -i container=other TERM=dumb \
  /lib/systemd/systemd --log-target=journal --show-status=no
EOF
(
  echo "$BASHPID" >"$CGROUP/cgroup.procs"
  exec unshare --fork --pid --mount --net --cgroup --propagation private sh "$WORK/boot.sh" "$ROOT"
) >"$WORK/boot.log" 2>&1 &
UNSHARE_PID=$!
for _ in $(seq 1 100); do
  INIT_PID=$(cat /proc/"$UNSHARE_PID"/task/*/children 2>/dev/null | awk '{ print $1 }')
  [[ -n $INIT_PID && $(cat /proc/"$INIT_PID"/comm 2>/dev/null) == systemd ]] && break
  INIT_PID=
  sleep 0.1
done
[[ -n $INIT_PID ]] || { echo "systemd did not start in the namespace" >&2; exit 1; }
state=
for _ in $(seq 1 300); do
  state=$(in_ns systemctl is-system-running 2>/dev/null || true)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.2
done
if [[ $state == running || $state == degraded ]]; then
  pass "systemd boots as PID 1 in the namespaces (system state: $state)"
else
  fail "systemd did not finish booting (state: ${state:-none})"
  exit 1
fi
[[ $state == degraded ]] && in_ns systemctl --failed --no-pager >"$WORK/failed-units.log"

# --- install ----------------------------------------------------------------------------------
if in_ns apt-get install -y "$DEB_IN_ROOT" >"$WORK/apt-install.log" 2>&1; then
  pass "apt installs the package and its dependencies under a running systemd"
else
  fail "apt could not install the package"
  exit 1
fi

unit_prop() { in_ns systemctl show -p "$2" --value "$1"; }
[[ $(unit_prop meshnode-agent.service LoadState) == loaded ]] &&
  pass "meshnode-agent.service is loaded" || fail "meshnode-agent.service is not loaded"
[[ $(unit_prop meshnode-agent.service Type) == notify ]] &&
  pass "the unit is Type=notify" || fail "the unit is not Type=notify"
[[ $(unit_prop meshnode-agent.service UnitFileState) == disabled &&
  $(unit_prop meshnode-agent.service ActiveState) == inactive ]] &&
  pass "a first install neither enables nor starts the agent" ||
  fail "the agent was enabled or started by the install"
if in_ns systemd-analyze verify meshnode-agent.service >"$WORK/verify.log" 2>&1; then
  pass "systemd-analyze verify accepts the unit"
else
  fail "systemd-analyze verify: $(head -n3 "$WORK/verify.log")"
fi

missing=0
for b in meshnode-agent meshnode-proxy meshnode-iptables meshnode-certs; do
  in_ns test -x "/usr/bin/$b" || { missing=1; fail "/usr/bin/$b is missing"; }
done
((missing)) || pass "the four binaries are in /usr/bin"
in_ns dpkg-query -W -f='${Conffiles}\n' meshnode | grep -q '^ /etc/meshnode/agent.toml ' &&
  pass "/etc/meshnode/agent.toml is a conffile" || fail "/etc/meshnode/agent.toml is no conffile"
in_ns cmp -s /etc/meshnode/agent.toml /usr/share/doc/meshnode/agent.toml.example &&
  pass "the annotated example is in /usr/share/doc/meshnode" ||
  fail "/usr/share/doc/meshnode/agent.toml.example differs from the conffile or is missing"
user=$(in_ns getent passwd meshnode || true)
IFS=: read -r _ _ uid _ _ home shell <<<"$user"
if [[ -n $user && $uid -lt 1000 && $home == /var/lib/meshnode && $shell == */nologin ]]; then
  pass "meshnode is a system user (uid $uid, home $home, shell $shell)"
else
  fail "meshnode user: '${user}'"
fi
perms=$(in_ns stat -c '%U:%G %a' /var/lib/meshnode /etc/meshnode /etc/meshnode/agent.toml | xargs)
[[ $perms == "meshnode:meshnode 750 root:meshnode 750 root:meshnode 640" ]] &&
  pass "owners and modes: /var/lib/meshnode, /etc/meshnode, agent.toml ($perms)" ||
  fail "owners and modes: $perms"

# --- check ------------------------------------------------------------------------------------
as_meshnode() { in_ns setpriv --reuid=meshnode --regid=meshnode --init-groups "$@"; }
rc=0
as_meshnode meshnode-agent check >"$WORK/check-unconfigured.log" 2>&1 || rc=$?
# What is missing depends on the host (here: no default route to take the address from, no
# mesh manifests); each problem must be one line that locates it in the packaged file.
if [[ $rc -eq 78 ]] && grep -qE '^/etc/meshnode/agent.toml: [0-9]+ problems?$' "$WORK/check-unconfigured.log" &&
  ! grep -vqE '^/etc/meshnode/agent.toml:' "$WORK/check-unconfigured.log"; then
  pass "check on the packaged config reports this unconfigured host's problems (exit 78):"
  sed 's/^/#   /' "$WORK/check-unconfigured.log"
else
  fail "check on the packaged config: exit $rc, $(cat "$WORK/check-unconfigured.log")"
fi

# A configured host: the mesh's manifests with the host's WorkloadGroup, a fixed address.
in_ns mkdir -p /etc/meshnode/mesh /var/lib/meshnode/registry
in_ns chown meshnode:meshnode /var/lib/meshnode/registry
cat >"$ROOT/etc/meshnode/mesh/workloadgroup.yaml" <<'EOF'
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: ratings-vm
  namespace: bookinfo
spec:
  metadata:
    labels:
      app: ratings
  template:
    serviceAccount: ratings
    ports:
      http: 9080
EOF
in_ns chmod -R a+rX /etc/meshnode/mesh
in_ns sed -i -e 's|^# address = "198.18.0.10"|address = "198.18.0.10"|' \
  -e 's|^# upstreams = .*|upstreams = ["198.18.0.53"]|' /etc/meshnode/agent.toml
if as_meshnode meshnode-agent check >"$WORK/check-configured.log" 2>&1; then
  pass "check passes once the host is configured"
else
  fail "check on the configured host: $(cat "$WORK/check-configured.log")"
fi

# --- start and stop ---------------------------------------------------------------------------
capture_rules() {
  { in_ns iptables-save; in_ns ip6tables-save; } 2>/dev/null | grep -E 'ISTIO|meshnode' || true
  if in_ns sh -c 'command -v nft' >/dev/null; then
    in_ns nft list ruleset 2>/dev/null | grep -E 'meshnode|ISTIO' || true
  fi
}
meshnode_processes() {
  [[ -n $uid ]] || return 0
  in_ns sh -c "grep -lsE '^Uid:[[:space:]]+${uid}[[:space:]]' /proc/[0-9]*/status" || true
}

HAVE_RUN=0
in_ns meshnode-agent help 2>/dev/null | grep -q '^  run ' && HAVE_RUN=1
if ((!HAVE_RUN)); then
  skip "meshnode-agent has no 'run' command in this build: start (Type=notify), capture while active, stop without rules or processes"
else
  # The host's address and default route: one end of a veth pair (no module beyond veth).
  nsenter -t "$INIT_PID" -n ip link add mnpkg0 type veth peer name mnpkg1
  nsenter -t "$INIT_PID" -n ip link set mnpkg1 up
  nsenter -t "$INIT_PID" -n ip addr add 198.18.0.10/24 dev mnpkg0
  nsenter -t "$INIT_PID" -n ip link set mnpkg0 up
  nsenter -t "$INIT_PID" -n ip link set lo up
  nsenter -t "$INIT_PID" -n ip route add default via 198.18.0.1
  if in_ns timeout 150 systemctl start meshnode-agent.service >"$WORK/start.log" 2>&1 &&
    [[ $(unit_prop meshnode-agent.service ActiveState) == active ]]; then
    pass "systemctl start meshnode-agent reaches active (READY=1 under Type=notify)"
  else
    fail "systemctl start meshnode-agent: $(unit_prop meshnode-agent.service ActiveState), $(cat "$WORK/start.log")"
  fi
  in_ns journalctl -u meshnode-agent.service --no-pager >"$WORK/agent-journal.log" 2>&1 || true
  if [[ -n $(capture_rules) ]]; then
    pass "capture rules are installed while the agent is active"
  else
    fail "no capture rules while the agent is active"
  fi
  in_ns timeout 60 systemctl stop meshnode-agent.service >"$WORK/stop.log" 2>&1 || true
  in_ns journalctl -u meshnode-agent.service --no-pager >"$WORK/agent-journal.log" 2>&1 || true
  [[ $(unit_prop meshnode-agent.service ActiveState) == inactive ]] &&
    pass "systemctl stop leaves the unit inactive" ||
    fail "after stop the unit is $(unit_prop meshnode-agent.service ActiveState)"
  left=$(capture_rules)
  [[ -z $left ]] && pass "no ISTIO or meshnode rules after stop" || fail "rules after stop: $left"
  left=$(meshnode_processes)
  [[ -z $left ]] && pass "no meshnode process after stop" || fail "processes after stop: $left"
fi

# --- upgrade --------------------------------------------------------------------------------
(cd "$WORK" && cpack -G DEB --config "$MESHNODE_BUILD/CPackConfig.cmake" -B "$WORK/pkg-next" \
  -D CPACK_PACKAGE_VERSION=0.1.1) >>"$WORK/cpack.log" 2>&1
cp "$WORK"/pkg-next/meshnode_0.1.1_*.deb "$ROOT/root/"
config_before=$(sha256sum <"$ROOT/etc/meshnode/agent.toml")
pid_before=
if ((HAVE_RUN)); then
  in_ns timeout 150 systemctl start meshnode-agent.service >>"$WORK/start.log" 2>&1 || true
  pid_before=$(unit_prop meshnode-agent.service MainPID)
fi
if in_ns apt-get install -y "/root/$(basename "$WORK"/pkg-next/meshnode_0.1.1_*.deb)" \
  >"$WORK/apt-upgrade.log" 2>&1 &&
  [[ $(in_ns dpkg-query -W -f='${Version}' meshnode) == 0.1.1 ]]; then
  pass "apt upgrades the package to 0.1.1"
else
  fail "upgrade to 0.1.1 failed"
fi
[[ $(sha256sum <"$ROOT/etc/meshnode/agent.toml") == "$config_before" ]] &&
  pass "an upgrade keeps the operator's edited agent.toml" ||
  fail "the upgrade changed /etc/meshnode/agent.toml"
[[ $(in_ns stat -c '%U:%G %a' /var/lib/meshnode/registry /etc/meshnode/agent.toml | xargs) == \
  "meshnode:meshnode 755 root:meshnode 640" ]] &&
  pass "an upgrade keeps the state directory and the config's owners" ||
  fail "after the upgrade: $(in_ns stat -c '%n %U:%G %a' /var/lib/meshnode/registry /etc/meshnode/agent.toml | xargs)"
if ((HAVE_RUN)); then
  pid_after=$(unit_prop meshnode-agent.service MainPID)
  [[ $(unit_prop meshnode-agent.service ActiveState) == active && $pid_after != "$pid_before" ]] &&
    pass "an upgrade restarts the running agent (main PID $pid_before -> $pid_after)" ||
    fail "after the upgrade the agent is $(unit_prop meshnode-agent.service ActiveState), main PID $pid_before -> $pid_after"
  in_ns timeout 60 systemctl stop meshnode-agent.service >>"$WORK/stop.log" 2>&1 || true
else
  skip "meshnode-agent has no 'run' command in this build: an upgrade restarts a running agent"
fi

# --- remove and purge -------------------------------------------------------------------------
# Capture left behind (an agent killed, or rules applied by hand) is removed with the package.
if in_ns meshnode-iptables apply --proxy-uid=meshnode --proxy-gid=meshnode >"$WORK/apply.log" 2>&1 &&
  [[ -n $(capture_rules) ]]; then
  pass "meshnode-iptables apply installs capture in the namespace"
else
  fail "meshnode-iptables apply: $(cat "$WORK/apply.log")"
fi
in_ns rm -rf /etc/meshnode/mesh
if in_ns apt-get remove -y meshnode >"$WORK/apt-remove.log" 2>&1; then
  pass "apt remove succeeds"
else
  fail "apt remove failed"
fi
left=$(capture_rules)
[[ -z $left ]] && pass "no ISTIO or meshnode rules after remove" || fail "rules after remove: $left"
in_ns test -f /etc/meshnode/agent.toml && in_ns test -d /var/lib/meshnode &&
  pass "remove keeps the conffile and the state directory" ||
  fail "remove took the conffile or /var/lib/meshnode"
if in_ns apt-get purge -y meshnode >"$WORK/apt-purge.log" 2>&1; then
  pass "apt purge succeeds"
else
  fail "apt purge failed"
fi
left=$(while read -r f; do if in_ns test -e "$f"; then echo "$f"; fi; done <"$WORK/files")
[[ -z $left ]] && pass "purge removes every file of the package" || fail "left after purge: $left"
left=$(for d in /etc/meshnode /var/lib/meshnode /run/meshnode /run/meshnode-iptables; do
  if in_ns test -e "$d"; then echo "$d"; fi
done)
[[ -z $left ]] && pass "purge removes /etc/meshnode, /var/lib/meshnode and the runtime directories" ||
  fail "left after purge: $left"
[[ $(unit_prop meshnode-agent.service LoadState) == not-found ]] &&
  pass "the unit is gone from systemd after purge" ||
  fail "after purge the unit is $(unit_prop meshnode-agent.service LoadState)"
in_ns getent passwd meshnode >/dev/null &&
  pass "the meshnode user is kept on purge (its uid must not be reused)" ||
  fail "purge removed the meshnode user"
left=$(meshnode_processes)
[[ -z $left ]] && pass "no meshnode process after purge" || fail "processes after purge: $left"

echo "package_systemd: $PASSES passed, $FAILURES failed, $SKIPS skipped"
exit $((FAILURES ? 1 : 0))
