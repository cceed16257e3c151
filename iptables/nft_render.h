#pragma once

#include <string>

#include "iptables/rule_set.h"

namespace meshnode::iptables {

// Native nftables keeps the whole capture in one table of the inet family (IPv4 and IPv6),
// which is removed as a unit.
inline constexpr const char* kNftTable = "meshnode";

// The table exactly as `nft list table inet meshnode` prints it, so live and expected compare
// as text.
std::string renderNftTable(const RuleSet& set);

// Input for `nft -f -` that replaces the table (or creates it) in one transaction.
std::string renderNftReplace(const std::string& table_text);

// Input for `nft -f -` that removes the table.
std::string renderNftDelete();

}  // namespace meshnode::iptables
