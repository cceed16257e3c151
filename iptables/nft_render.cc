#include "iptables/nft_render.h"

namespace meshnode::iptables {
namespace {

const char* familyKeyword(const Cidr& cidr) {
  return cidr.family == Family::kIPv4 ? "ip" : "ip6";
}

// nft prints a host address without its prefix length.
std::string nftAddress(const Cidr& cidr) {
  return cidr.prefix == cidr.maxPrefix() ? cidr.addressText() : cidr.text();
}

std::string renderRule(const Rule& rule, bool ipv4_only) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (!out.empty()) out += ' ';
    out += part;
  };
  if (ipv4_only && !rule.source && !rule.destination) add("meta nfproto ipv4");
  if (rule.source) {
    add(std::string(familyKeyword(*rule.source)) + " saddr " + nftAddress(*rule.source));
  }
  if (rule.destination) {
    add(std::string(familyKeyword(*rule.destination)) + " daddr " +
        (rule.destination_negated ? "!= " : "") + nftAddress(*rule.destination));
  }
  if (!rule.in_interface.empty()) add("iifname \"" + rule.in_interface + "\"");
  if (!rule.out_interface.empty()) add("oifname \"" + rule.out_interface + "\"");
  const char* proto = rule.protocol == Protocol::kUdp ? "udp" : "tcp";
  if (rule.destination_port) {
    add(std::string(proto) + " dport " + (rule.destination_port_negated ? "!= " : "") +
        std::to_string(*rule.destination_port));
  } else if (rule.protocol != Protocol::kAny) {
    add(std::string("meta l4proto ") + proto);
  }
  if (rule.uid_owner) {
    add(std::string("meta skuid ") + (rule.uid_owner_negated ? "!= " : "") +
        std::to_string(*rule.uid_owner));
  }
  if (rule.gid_owner) add("meta skgid " + std::to_string(*rule.gid_owner));
  switch (rule.verdict) {
    case Verdict::kReturn:
      add("return");
      break;
    case Verdict::kJump:
      add("jump " + rule.jump_chain);
      break;
    case Verdict::kRedirect:
      add("redirect to :" + std::to_string(rule.redirect_port));
      break;
  }
  return out;
}

void renderChain(std::string& out, const std::string& name, const std::string& hook,
                 const std::vector<Rule>& rules, bool ipv4_only) {
  out += "\tchain " + name + " {\n";
  if (!hook.empty()) out += "\t\t" + hook + "\n";
  for (const auto& rule : rules)
    out += "\t\t" + renderRule(rule, ipv4_only) + "\n";
  out += "\t}\n";
}

}  // namespace

std::string renderNftTable(const RuleSet& set) {
  // Only the hooks need restricting to IPv4: the chains are reached through them alone.
  bool ipv4_only = !set.ipv6;
  std::string out = std::string("table inet ") + kNftTable + " {\n";
  renderChain(out, "prerouting", "type nat hook prerouting priority dstnat; policy accept;",
              set.prerouting, ipv4_only);
  out += "\n";
  renderChain(out, "output", "type nat hook output priority -100; policy accept;", set.output,
              ipv4_only);
  for (const auto& chain : set.chains) {
    out += "\n";
    std::vector<Rule> rules;
    for (const auto& r : chain.rules) {
      if (set.ipv6 || r.appliesTo(Family::kIPv4)) rules.push_back(r);
    }
    renderChain(out, chain.name, "", rules, false);
  }
  out += "}\n";
  return out;
}

std::string renderNftReplace(const std::string& table_text) {
  // Declaring the table first makes the delete valid when it does not exist yet; the three
  // statements commit together.
  return std::string("table inet ") + kNftTable + "\ndelete table inet " + kNftTable + "\n" +
         table_text;
}

std::string renderNftDelete() {
  return std::string("delete table inet ") + kNftTable + "\n";
}

}  // namespace meshnode::iptables
