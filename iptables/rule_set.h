#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "iptables/capture_config.h"

namespace meshnode::iptables {

// The chains meshnode owns, named as Istio names them so operators recognise them.
inline constexpr const char* kInboundChain = "ISTIO_INBOUND";
inline constexpr const char* kInboundRedirectChain = "ISTIO_IN_REDIRECT";
inline constexpr const char* kOutputChain = "ISTIO_OUTPUT";
inline constexpr const char* kRedirectChain = "ISTIO_REDIRECT";
inline constexpr const char* kOwnedChains[] = {kInboundChain, kInboundRedirectChain, kOutputChain,
                                               kRedirectChain};
bool isOwnedChain(const std::string& name);

enum class Protocol { kAny, kTcp, kUdp };
enum class Verdict { kReturn, kJump, kRedirect };

// One rule of the nat table. Matches that are unset match everything; a rule holding an
// address belongs to that address's family only.
struct Rule {
  std::optional<Cidr> source;
  std::optional<Cidr> destination;
  bool destination_negated = false;
  std::string in_interface;
  std::string out_interface;
  Protocol protocol = Protocol::kAny;
  std::optional<uint16_t> destination_port;
  bool destination_port_negated = false;
  std::optional<uint32_t> uid_owner;
  bool uid_owner_negated = false;
  std::optional<uint32_t> gid_owner;
  Verdict verdict = Verdict::kReturn;
  std::string jump_chain;      // kJump
  uint16_t redirect_port = 0;  // kRedirect

  // True when the rule applies to packets of `family`.
  bool appliesTo(Family family) const;
  bool operator==(const Rule&) const = default;
};

struct Chain {
  std::string name;
  std::vector<Rule> rules;
};

// The whole capture: the jumps from the built-in PREROUTING and OUTPUT chains and the owned
// chains, in the order they are installed.
struct RuleSet {
  bool ipv6 = false;
  std::vector<Rule> prerouting;
  std::vector<Rule> output;
  std::vector<Chain> chains;
};

RuleSet buildRuleSet(const CaptureConfig& config, const HostFacts& facts);

}  // namespace meshnode::iptables
