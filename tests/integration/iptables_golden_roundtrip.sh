#!/usr/bin/env bash
# Loads every golden rule set into the real tools (iptables-legacy, iptables-nft and nft, in a
# network namespace made here) and checks that they list it back byte for byte. `verify` and
# the no-op `apply` compare rendered text with live listings, so this is what they rely on.
set -euo pipefail
src=${MESHNODE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
golden=$src/tests/golden/iptables
ns=mnigr$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
fail=0

fresh_ns() {
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
}

# The "-A" lines of one family's section of a golden print (1 = IPv4, 2 = IPv6).
section() { awk -v want="$2" '/^# IPv/ {n++} n == want && /^-A /' "$1"; }

for g in "$golden"/*.golden; do
  name=$(basename "$g" .golden)
  if head -1 "$g" | grep -q '^table inet'; then
    fresh_ns
    ip netns exec "$ns" nft -f "$g"
    if ! diff -u "$g" <(ip netns exec "$ns" nft list table inet meshnode); then
      echo "FAIL: $name: nft lists the table differently" >&2
      fail=1
    fi
    continue
  fi
  for flavour in legacy nft; do
    fresh_ns
    for fam in 1 2; do
      tool=iptables; [[ $fam == 2 ]] && tool=ip6tables
      want=$(section "$g" $fam)
      [[ -n $want ]] || continue
      awk -v want=$fam '/^# IPv/ {n++; next} n == want' "$g" |
        ip netns exec "$ns" $tool-$flavour-restore --noflush
      got=$(ip netns exec "$ns" $tool-$flavour-save -t nat | grep '^-A ')
      # iptables-save groups rules by chain, built-in chains first.
      want_sorted=$(printf '%s\n' "$want" | awk '{print ($2 == "PREROUTING" ? 0 : $2 == "OUTPUT" ? 1 : 2) " " NR " " $0}' | sort -k1,1n -k2,2n | cut -d' ' -f3-)
      if [[ $got != "$want_sorted" ]]; then
        echo "FAIL: $name ($tool-$flavour): listed back differently" >&2
        diff -u <(printf '%s\n' "$want_sorted") <(printf '%s\n' "$got") >&2 || true
        fail=1
      fi
    done
  done
done
[[ $fail == 0 ]] && echo "all golden rule sets list back as rendered"
exit $fail
