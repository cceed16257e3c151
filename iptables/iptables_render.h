#pragma once

#include <map>
#include <string>
#include <vector>

#include "iptables/rule_set.h"

namespace meshnode::iptables {

// "-A ISTIO_OUTPUT -d 198.18.0.0/15 -p tcp -j ISTIO_REDIRECT": the exact text iptables-save
// prints, so live rules compare as strings.
std::string renderIptablesRule(const std::string& chain, const Rule& rule);

// meshnode's part of one family's nat table: the owned chains with their rules (as
// "-A CHAIN ..." lines) and the rules elsewhere that jump into them.
struct NatState {
  std::map<std::string, std::vector<std::string>> chains;
  std::vector<std::string> jumps;

  bool empty() const { return chains.empty() && jumps.empty(); }
  bool operator==(const NatState&) const = default;
};

NatState expectedNatState(const RuleSet& set, Family family);

// meshnode's part of the nat table in `iptables-save` output (with or without -c counters).
NatState parseIptablesSave(const std::string& save_output);

// The rule set in iptables-restore form: what `print` shows and the golden files hold.
std::string renderIptablesRestore(const RuleSet& set, Family family);

// Input for `iptables-restore --noflush` that turns `live` into `expected` in one commit:
// declaring an owned chain flushes it, and each live jump is deleted before the new ones are
// appended, so nothing is duplicated. `extra_line`, when set, is added before COMMIT.
std::string renderApplyTransaction(const NatState& live, const NatState& expected,
                                   const std::string& extra_line = "");

// Input for `iptables-restore --noflush` that removes what `live` holds of meshnode.
std::string renderCleanupTransaction(const NatState& live);

// Human-readable differences, empty when equal.
std::vector<std::string> diffNatState(const NatState& live, const NatState& expected);

}  // namespace meshnode::iptables
