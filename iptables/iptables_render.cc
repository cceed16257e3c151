#include "iptables/iptables_render.h"

#include <algorithm>
#include <sstream>

namespace meshnode::iptables {
namespace {

const char* protocolName(Protocol p) {
  return p == Protocol::kUdp ? "udp" : "tcp";
}

std::string stripCounters(const std::string& line) {
  if (!line.empty() && line[0] == '[') {
    auto close = line.find("] ");
    if (close != std::string::npos) return line.substr(close + 2);
  }
  return line;
}

// "-A CHAIN ... -j TARGET" -> TARGET (the word after the last " -j ").
std::string jumpTarget(const std::string& line) {
  auto pos = line.rfind(" -j ");
  if (pos == std::string::npos) return "";
  std::string rest = line.substr(pos + 4);
  return rest.substr(0, rest.find(' '));
}

std::string chainOf(const std::string& line) {
  std::istringstream in(line);
  std::string flag, chain;
  in >> flag >> chain;
  return chain;
}

}  // namespace

std::string renderIptablesRule(const std::string& chain, const Rule& rule) {
  std::string out = "-A " + chain;
  if (rule.source) out += " -s " + rule.source->text();
  if (rule.destination) {
    out += rule.destination_negated ? " ! -d " : " -d ";
    out += rule.destination->text();
  }
  if (!rule.in_interface.empty()) out += " -i " + rule.in_interface;
  if (!rule.out_interface.empty()) out += " -o " + rule.out_interface;
  if (rule.protocol != Protocol::kAny) out += std::string(" -p ") + protocolName(rule.protocol);
  if (rule.destination_port) {
    out += std::string(" -m ") + protocolName(rule.protocol);
    out += rule.destination_port_negated ? " ! --dport " : " --dport ";
    out += std::to_string(*rule.destination_port);
  }
  if (rule.uid_owner || rule.gid_owner) {
    out += " -m owner";
    if (rule.uid_owner) {
      out += rule.uid_owner_negated ? " ! --uid-owner " : " --uid-owner ";
      out += std::to_string(*rule.uid_owner);
    }
    if (rule.gid_owner) out += " --gid-owner " + std::to_string(*rule.gid_owner);
  }
  switch (rule.verdict) {
    case Verdict::kReturn:
      out += " -j RETURN";
      break;
    case Verdict::kJump:
      out += " -j " + rule.jump_chain;
      break;
    case Verdict::kRedirect:
      out += " -j REDIRECT --to-ports " + std::to_string(rule.redirect_port);
      break;
  }
  return out;
}

NatState expectedNatState(const RuleSet& set, Family family) {
  NatState state;
  for (const auto& r : set.prerouting) {
    if (r.appliesTo(family)) state.jumps.push_back(renderIptablesRule("PREROUTING", r));
  }
  for (const auto& r : set.output) {
    if (r.appliesTo(family)) state.jumps.push_back(renderIptablesRule("OUTPUT", r));
  }
  for (const auto& chain : set.chains) {
    auto& lines = state.chains[chain.name];
    for (const auto& r : chain.rules) {
      if (r.appliesTo(family)) lines.push_back(renderIptablesRule(chain.name, r));
    }
  }
  return state;
}

NatState parseIptablesSave(const std::string& save_output) {
  NatState state;
  std::istringstream in(save_output);
  std::string line;
  bool in_nat = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      in_nat = line == "*nat";
      continue;
    }
    if (!in_nat) continue;
    if (line[0] == ':') {
      std::string name = line.substr(1, line.find(' ') - 1);
      if (isOwnedChain(name)) state.chains[name];
      continue;
    }
    line = stripCounters(line);
    if (line.rfind("-A ", 0) != 0) continue;
    std::string chain = chainOf(line);
    if (isOwnedChain(chain)) {
      state.chains[chain].push_back(line);
    } else if (isOwnedChain(jumpTarget(line))) {
      state.jumps.push_back(line);
    }
  }
  return state;
}

std::string renderIptablesRestore(const RuleSet& set, Family family) {
  NatState state = expectedNatState(set, family);
  std::string out = "*nat\n";
  for (const auto& chain : set.chains)
    out += ":" + chain.name + " - [0:0]\n";
  for (const auto& chain : set.chains) {
    for (const auto& line : state.chains[chain.name])
      out += line + "\n";
  }
  for (const auto& line : state.jumps)
    out += line + "\n";
  out += "COMMIT\n";
  return out;
}

std::string renderApplyTransaction(const NatState& live, const NatState& expected,
                                   const std::string& extra_line) {
  std::string out = "*nat\n";
  for (const auto& [name, rules] : expected.chains)
    out += ":" + name + " - [0:0]\n";
  for (const auto& line : live.jumps)
    out += "-D" + line.substr(2) + "\n";
  // Owned chains the new rule set no longer has: emptied (by declaration) and removed.
  for (const auto& [name, rules] : live.chains) {
    if (!expected.chains.count(name)) out += "-F " + name + "\n-X " + name + "\n";
  }
  // Chain rules in the order the rule set lists them: kOwnedChains order is the map's.
  for (const char* name : kOwnedChains) {
    auto it = expected.chains.find(name);
    if (it == expected.chains.end()) continue;
    for (const auto& line : it->second)
      out += line + "\n";
  }
  for (const auto& line : expected.jumps)
    out += line + "\n";
  if (!extra_line.empty()) out += extra_line + "\n";
  out += "COMMIT\n";
  return out;
}

std::string renderCleanupTransaction(const NatState& live) {
  std::string out = "*nat\n";
  for (const auto& line : live.jumps)
    out += "-D" + line.substr(2) + "\n";
  for (const auto& [name, rules] : live.chains)
    out += "-F " + name + "\n";
  for (const auto& [name, rules] : live.chains)
    out += "-X " + name + "\n";
  out += "COMMIT\n";
  return out;
}

std::vector<std::string> diffNatState(const NatState& live, const NatState& expected) {
  std::vector<std::string> out;
  for (const auto& [name, want] : expected.chains) {
    auto it = live.chains.find(name);
    if (it == live.chains.end()) {
      out.push_back("chain " + name + " is missing");
      continue;
    }
    const auto& have = it->second;
    if (have == want) continue;
    size_t before = out.size();
    for (const auto& line : want) {
      if (std::find(have.begin(), have.end(), line) == have.end()) {
        out.push_back("missing rule: " + line);
      }
    }
    for (const auto& line : have) {
      if (std::find(want.begin(), want.end(), line) == want.end()) {
        out.push_back("unexpected rule: " + line);
      }
    }
    if (out.size() == before || have.size() != want.size()) {
      out.push_back("chain " + name + " has " + std::to_string(have.size()) +
                    " rules in a different order or count than the expected " +
                    std::to_string(want.size()));
    }
  }
  for (const auto& [name, have] : live.chains) {
    if (!expected.chains.count(name)) out.push_back("unexpected chain " + name);
  }
  for (const auto& line : expected.jumps) {
    auto n = std::count(live.jumps.begin(), live.jumps.end(), line);
    if (n == 0) out.push_back("missing jump: " + line);
    if (n > 1) out.push_back("jump installed " + std::to_string(n) + " times: " + line);
  }
  for (const auto& line : live.jumps) {
    if (std::find(expected.jumps.begin(), expected.jumps.end(), line) == expected.jumps.end()) {
      out.push_back("unexpected jump: " + line);
    }
  }
  if (out.empty() && live.jumps != expected.jumps) {
    out.push_back("jumps into meshnode's chains are in an unexpected order");
  }
  return out;
}

}  // namespace meshnode::iptables
