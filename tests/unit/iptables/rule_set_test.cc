#include "iptables/rule_set.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "iptables/capture_options.h"
#include "iptables/iptables_render.h"

namespace meshnode::iptables {
namespace {

NatState stateFor(const std::map<std::string, std::string>& options, Family family,
                  HostFacts facts = {}) {
  auto config = parseCaptureOptions(options, "test");
  EXPECT_TRUE(config.ok());
  return expectedNatState(buildRuleSet(config.value(), facts), family);
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(RuleSet, SshAndStatusPortsAreNeverCapturedByDefault) {
  NatState s = stateFor({{"inbound_ports_exclude", "8080"}}, Family::kIPv4);
  const auto& in = s.chains["ISTIO_INBOUND"];
  for (int port : {22, 15000, 15020, 15021, 15090, 8080}) {
    EXPECT_TRUE(
        has(in, "-A ISTIO_INBOUND -p tcp -m tcp --dport " + std::to_string(port) + " -j RETURN"))
        << port;
  }
  EXPECT_EQ(in.back(), "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT");
}

TEST(RuleSet, SshIsCapturedOnlyWhenListed) {
  NatState s = stateFor({{"inbound_ports_include", "22,80"}}, Family::kIPv4);
  EXPECT_EQ(
      s.chains["ISTIO_INBOUND"],
      (std::vector<std::string>{"-A ISTIO_INBOUND -p tcp -m tcp --dport 22 -j ISTIO_IN_REDIRECT",
                                "-A ISTIO_INBOUND -p tcp -m tcp --dport 80 -j ISTIO_IN_REDIRECT"}));
}

TEST(RuleSet, NoInboundCaptureMeansNoPreroutingJump) {
  NatState s = stateFor({{"inbound_ports_include", ""}}, Family::kIPv4);
  EXPECT_TRUE(s.chains["ISTIO_INBOUND"].empty());
  EXPECT_EQ(s.jumps, (std::vector<std::string>{"-A OUTPUT -p tcp -j ISTIO_OUTPUT"}));
  EXPECT_FALSE(has(s.chains["ISTIO_OUTPUT"],
                   "-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --uid-owner 1337 -j "
                   "ISTIO_IN_REDIRECT"));
}

TEST(RuleSet, ProxyTrafficReturnsBeforeAnyCapture) {
  NatState s =
      stateFor({{"proxy_uid", "998"}, {"proxy_gid", "997"}, {"exclude_uids", "0"}}, Family::kIPv4);
  const auto& out = s.chains["ISTIO_OUTPUT"];
  auto pos = [&](const std::string& line) {
    return std::find(out.begin(), out.end(), line) - out.begin();
  };
  auto redirect = pos("-A ISTIO_OUTPUT -p tcp -j ISTIO_REDIRECT");
  ASSERT_LT(redirect, static_cast<long>(out.size()));
  EXPECT_LT(pos("-A ISTIO_OUTPUT -m owner --uid-owner 998 -j RETURN"), redirect);
  EXPECT_LT(pos("-A ISTIO_OUTPUT -m owner --gid-owner 997 -j RETURN"), redirect);
  EXPECT_LT(pos("-A ISTIO_OUTPUT -m owner --uid-owner 0 -j RETURN"), redirect);
  EXPECT_LT(pos("-A ISTIO_OUTPUT -o lo -j RETURN"), redirect);
}

TEST(RuleSet, FamiliesKeepTheirOwnAddresses) {
  std::map<std::string, std::string> options = {
      {"ipv6", "true"}, {"outbound_ips_exclude", "198.18.0.0/15,2001:2::/48"}};
  NatState v4 = stateFor(options, Family::kIPv4);
  NatState v6 = stateFor(options, Family::kIPv6);
  EXPECT_TRUE(has(v4.chains["ISTIO_OUTPUT"], "-A ISTIO_OUTPUT -d 198.18.0.0/15 -j RETURN"));
  EXPECT_FALSE(has(v4.chains["ISTIO_OUTPUT"], "-A ISTIO_OUTPUT -d 2001:2::/48 -j RETURN"));
  EXPECT_TRUE(has(v6.chains["ISTIO_OUTPUT"], "-A ISTIO_OUTPUT -d 2001:2::/48 -j RETURN"));
  EXPECT_TRUE(has(v6.chains["ISTIO_OUTPUT"], "-A ISTIO_OUTPUT -s ::6/128 -o lo -j RETURN"));
}

TEST(RuleSet, Ipv6FollowsTheHostWhenAuto) {
  auto config = parseCaptureOptions(std::map<std::string, std::string>{}, "test").value();
  EXPECT_FALSE(buildRuleSet(config, HostFacts{false, {}}).ipv6);
  EXPECT_TRUE(buildRuleSet(config, HostFacts{true, {}}).ipv6);
  config.ipv6 = Ipv6Mode::kOff;
  EXPECT_FALSE(buildRuleSet(config, HostFacts{true, {}}).ipv6);
}

TEST(RuleSet, HostResolverDnsCaptureTargetsEachNameserver) {
  std::string ignored;
  HostFacts facts{false, {*parseCidr("198.18.0.53", &ignored), *parseCidr("2001:2::53", &ignored)}};
  NatState s = stateFor({{"dns_capture", "host-resolvers"}}, Family::kIPv4, facts);
  const auto& out = s.chains["ISTIO_OUTPUT"];
  EXPECT_TRUE(has(out,
                  "-A ISTIO_OUTPUT -d 198.18.0.53/32 -p udp -m udp --dport 53 -j REDIRECT "
                  "--to-ports 15053"));
  EXPECT_TRUE(has(out,
                  "-A ISTIO_OUTPUT -d 198.18.0.53/32 -p tcp -m tcp --dport 53 -j REDIRECT "
                  "--to-ports 15053"));
  EXPECT_TRUE(has(s.jumps, "-A OUTPUT -p udp -m udp --dport 53 -j ISTIO_OUTPUT"));
  // The DNS rules come before loopback returns, so a local stub resolver is captured too.
  auto dns = std::find_if(out.begin(), out.end(),
                          [](const std::string& l) { return l.find("15053") != l.npos; });
  auto lo = std::find(out.begin(), out.end(), "-A ISTIO_OUTPUT -o lo -j RETURN");
  EXPECT_LT(dns, lo);
}

}  // namespace
}  // namespace meshnode::iptables
