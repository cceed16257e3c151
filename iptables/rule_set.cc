#include "iptables/rule_set.h"

#include <algorithm>

namespace meshnode::iptables {
namespace {

constexpr uint16_t kDnsPort = 53;

Cidr hostCidr(Family family, const char* text) {
  std::string ignored;
  Cidr cidr = *parseCidr(text, &ignored);
  cidr.family = family;
  return cidr;
}

Rule returnRule() {
  return Rule{};
}

Rule jumpRule(const char* chain) {
  Rule r;
  r.verdict = Verdict::kJump;
  r.jump_chain = chain;
  return r;
}

Rule redirectRule(Protocol protocol, uint16_t port) {
  Rule r;
  r.protocol = protocol;
  r.verdict = Verdict::kRedirect;
  r.redirect_port = port;
  return r;
}

std::vector<Family> families(const RuleSet& set) {
  if (set.ipv6) return {Family::kIPv4, Family::kIPv6};
  return {Family::kIPv4};
}

Chain buildInbound(const CaptureConfig& config) {
  Chain chain{kInboundChain, {}};
  for (const auto& ifname : config.exclude_interfaces) {
    Rule r = returnRule();
    r.in_interface = ifname;
    chain.rules.push_back(r);
  }
  if (config.inbound_ports_all) {
    std::vector<uint16_t> excluded(kSafetyPorts.begin(), kSafetyPorts.end());
    excluded.insert(excluded.end(), config.inbound_ports_exclude.begin(),
                    config.inbound_ports_exclude.end());
    std::sort(excluded.begin(), excluded.end());
    excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
    for (auto port : excluded) {
      Rule r = returnRule();
      r.protocol = Protocol::kTcp;
      r.destination_port = port;
      chain.rules.push_back(r);
    }
    Rule capture = jumpRule(kInboundRedirectChain);
    capture.protocol = Protocol::kTcp;
    chain.rules.push_back(capture);
  } else {
    for (auto port : config.inbound_ports_include) {
      Rule r = jumpRule(kInboundRedirectChain);
      r.protocol = Protocol::kTcp;
      r.destination_port = port;
      chain.rules.push_back(r);
    }
  }
  return chain;
}

bool capturesInbound(const CaptureConfig& config) {
  return config.inbound_ports_all || !config.inbound_ports_include.empty();
}

Chain buildOutput(const CaptureConfig& config, const HostFacts& facts, const RuleSet& set) {
  Chain chain{kOutputChain, {}};
  auto& rules = chain.rules;
  for (const auto& ifname : config.exclude_interfaces) {
    Rule r = returnRule();
    r.out_interface = ifname;
    rules.push_back(r);
  }
  // The proxy's inbound side connects to local applications from this source address, so that
  // those connections are told apart from the proxy's own calls to the host.
  for (Family f : families(set)) {
    Rule r = returnRule();
    r.source = hostCidr(f, f == Family::kIPv4 ? "127.0.0.6" : "::6");
    r.out_interface = "lo";
    rules.push_back(r);
  }
  // The proxy calling the host's own non-loopback address goes through the inbound side, as a
  // call from another workload would; its other traffic is never captured.
  if (capturesInbound(config)) {
    for (Family f : families(set)) {
      Rule r = jumpRule(kInboundRedirectChain);
      r.destination = hostCidr(f, f == Family::kIPv4 ? "127.0.0.1" : "::1");
      r.destination_negated = true;
      r.out_interface = "lo";
      r.protocol = Protocol::kTcp;
      r.uid_owner = config.proxy_uid;
      rules.push_back(r);
    }
  }
  {
    Rule r = returnRule();
    r.uid_owner = config.proxy_uid;
    rules.push_back(r);
    Rule g = returnRule();
    g.gid_owner = config.proxy_gid;
    rules.push_back(g);
  }
  for (auto uid : config.exclude_uids) {
    Rule r = returnRule();
    r.uid_owner = uid;
    rules.push_back(r);
  }
  for (auto gid : config.exclude_gids) {
    Rule r = returnRule();
    r.gid_owner = gid;
    rules.push_back(r);
  }
  // DNS comes before the loopback rule: a local stub resolver (127.0.0.53) is reached via lo.
  if (config.dns_capture != DnsCapture::kNone) {
    std::vector<std::optional<Cidr>> targets;
    if (config.dns_capture == DnsCapture::kAll) {
      targets.push_back(std::nullopt);
    } else {
      for (const auto& resolver : facts.resolvers) {
        if (resolver.family == Family::kIPv4 || set.ipv6) targets.push_back(resolver);
      }
    }
    for (const auto& target : targets) {
      for (Protocol p : {Protocol::kUdp, Protocol::kTcp}) {
        Rule r = redirectRule(p, config.dns_capture_port);
        r.destination = target;
        r.destination_port = kDnsPort;
        rules.push_back(r);
      }
    }
  }
  {
    // Applications calling services on this host, through loopback or its own addresses.
    Rule r = returnRule();
    r.out_interface = "lo";
    rules.push_back(r);
  }
  for (auto port : config.outbound_ports_exclude) {
    Rule r = returnRule();
    r.protocol = Protocol::kTcp;
    r.destination_port = port;
    rules.push_back(r);
  }
  for (const auto& cidr : config.outbound_ips_exclude) {
    if (cidr.family == Family::kIPv6 && !set.ipv6) continue;
    Rule r = returnRule();
    r.destination = cidr;
    rules.push_back(r);
  }
  if (config.outbound_ips_all) {
    Rule r = jumpRule(kRedirectChain);
    r.protocol = Protocol::kTcp;
    rules.push_back(r);
  } else {
    for (const auto& cidr : config.outbound_ips_include) {
      if (cidr.family == Family::kIPv6 && !set.ipv6) continue;
      Rule r = jumpRule(kRedirectChain);
      r.destination = cidr;
      r.protocol = Protocol::kTcp;
      rules.push_back(r);
    }
  }
  return chain;
}

}  // namespace

bool isOwnedChain(const std::string& name) {
  for (const char* owned : kOwnedChains) {
    if (name == owned) return true;
  }
  return false;
}

bool Rule::appliesTo(Family family) const {
  if (source && source->family != family) return false;
  if (destination && destination->family != family) return false;
  return true;
}

RuleSet buildRuleSet(const CaptureConfig& config, const HostFacts& facts) {
  RuleSet set;
  set.ipv6 =
      config.ipv6 == Ipv6Mode::kOn || (config.ipv6 == Ipv6Mode::kAuto && facts.ipv6_available);
  if (capturesInbound(config)) {
    Rule r = jumpRule(kInboundChain);
    r.protocol = Protocol::kTcp;
    set.prerouting.push_back(r);
  }
  {
    Rule r = jumpRule(kOutputChain);
    r.protocol = Protocol::kTcp;
    set.output.push_back(r);
  }
  if (config.dns_capture != DnsCapture::kNone) {
    Rule r = jumpRule(kOutputChain);
    r.protocol = Protocol::kUdp;
    r.destination_port = kDnsPort;
    set.output.push_back(r);
  }
  set.chains.push_back(buildInbound(config));
  {
    Chain in_redirect{kInboundRedirectChain, {}};
    in_redirect.rules.push_back(redirectRule(Protocol::kTcp, config.inbound_capture_port));
    set.chains.push_back(in_redirect);
  }
  set.chains.push_back(buildOutput(config, facts, set));
  {
    Chain redirect{kRedirectChain, {}};
    redirect.rules.push_back(redirectRule(Protocol::kTcp, config.outbound_capture_port));
    set.chains.push_back(redirect);
  }
  return set;
}

}  // namespace meshnode::iptables
