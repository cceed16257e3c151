#include "iptables/capture_options.h"

#include <gtest/gtest.h>

#include "iptables/options_file.h"

namespace meshnode::iptables {
namespace {

CaptureConfig parseOk(const std::map<std::string, std::string>& options) {
  auto config = parseCaptureOptions(options, "agent.toml [capture]");
  EXPECT_TRUE(config.ok()) << config.error().describe();
  return config.ok() ? config.value() : CaptureConfig{};
}

std::string parseError(const std::map<std::string, std::string>& options) {
  auto config = parseCaptureOptions(options, "agent.toml [capture]");
  EXPECT_FALSE(config.ok());
  return config.ok() ? "" : config.error().detail;
}

TEST(CaptureOptions, DefaultsFollowIstio) {
  CaptureConfig c = parseOk({});
  EXPECT_EQ(c.proxy_uid, 1337u);
  EXPECT_EQ(c.proxy_gid, 1337u);
  EXPECT_EQ(c.outbound_capture_port, 15001);
  EXPECT_EQ(c.inbound_capture_port, 15006);
  EXPECT_EQ(c.dns_capture_port, 15053);
  EXPECT_TRUE(c.inbound_ports_all);
  EXPECT_TRUE(c.outbound_ips_all);
  EXPECT_EQ(c.dns_capture, DnsCapture::kNone);
  EXPECT_EQ(c.ipv6, Ipv6Mode::kAuto);
}

TEST(CaptureOptions, DashesAndUnderscoresNameTheSameOption) {
  CaptureConfig c = parseOk({{"proxy-uid", "998"}, {"proxy_gid", "997"}});
  EXPECT_EQ(c.proxy_uid, 998u);
  EXPECT_EQ(c.proxy_gid, 997u);
  EXPECT_NE(parseError({{"proxy-uid", "1"}, {"proxy_uid", "2"}}).find("also set"),
            std::string::npos);
}

TEST(CaptureOptions, UserAndGroupNamesAreLookedUp) {
  CaptureConfig c = parseOk({{"proxy_uid", "root"}, {"proxy_gid", "root"}});
  EXPECT_EQ(c.proxy_uid, 0u);
  EXPECT_EQ(c.proxy_gid, 0u);
  EXPECT_NE(parseError({{"proxy_uid", "no-such-user-here"}}).find("neither a number nor"),
            std::string::npos);
}

TEST(CaptureOptions, ListsAndStar) {
  CaptureConfig c = parseOk({{"inbound_ports_include", "80, 443,80"},
                             {"inbound_ports_exclude", "9090"},
                             {"outbound_ips_include", "198.18.0.0/15,2001:2::/48"},
                             {"outbound_ips_exclude", "198.19.0.1"},
                             {"outbound_ports_exclude", "25,587"},
                             {"exclude_interfaces", "eth1,wg0"},
                             {"exclude_uids", "0,1000"},
                             {"exclude_gids", "100"},
                             {"dns_capture", "host-resolvers"},
                             {"ipv6", "false"}});
  EXPECT_FALSE(c.inbound_ports_all);
  EXPECT_EQ(c.inbound_ports_include, (std::vector<uint16_t>{80, 443}));
  EXPECT_EQ(c.inbound_ports_exclude, (std::vector<uint16_t>{9090}));
  EXPECT_FALSE(c.outbound_ips_all);
  ASSERT_EQ(c.outbound_ips_include.size(), 2u);
  EXPECT_EQ(c.outbound_ips_include[1].text(), "2001:2::/48");
  ASSERT_EQ(c.outbound_ips_exclude.size(), 1u);
  EXPECT_EQ(c.outbound_ips_exclude[0].text(), "198.19.0.1/32");
  EXPECT_EQ(c.outbound_ports_exclude, (std::vector<uint16_t>{25, 587}));
  EXPECT_EQ(c.exclude_interfaces, (std::vector<std::string>{"eth1", "wg0"}));
  EXPECT_EQ(c.exclude_uids, (std::vector<uint32_t>{0, 1000}));
  EXPECT_EQ(c.exclude_gids, (std::vector<uint32_t>{100}));
  EXPECT_EQ(c.dns_capture, DnsCapture::kHostResolvers);
  EXPECT_EQ(c.ipv6, Ipv6Mode::kOff);
}

TEST(CaptureOptions, EmptyIncludeMeansNone) {
  CaptureConfig c = parseOk({{"inbound_ports_include", ""}, {"outbound_ips_include", ""}});
  EXPECT_FALSE(c.inbound_ports_all);
  EXPECT_TRUE(c.inbound_ports_include.empty());
  EXPECT_FALSE(c.outbound_ips_all);
  EXPECT_TRUE(c.outbound_ips_include.empty());
}

TEST(CaptureOptions, ErrorsNameTheLocationAndTheOption) {
  std::string e = parseError({{"inbound_ports_exclude", "80,70000"}});
  EXPECT_EQ(e,
            "agent.toml [capture]: capture option inbound_ports_exclude: '70000' is not a port "
            "(1-65535)");
  EXPECT_NE(
      parseError({{"outbound_ips_exclude", "198.18.1.0/15"}}).find("did you mean 198.18.0.0/15"),
      std::string::npos);
  EXPECT_NE(parseError({{"outbound_ips_exclude", "198.18.0.0/33"}}).find("prefix length"),
            std::string::npos);
  EXPECT_NE(parseError({{"outbound_ips_include", "example.com"}}).find("not an IPv4 or IPv6"),
            std::string::npos);
  EXPECT_NE(parseError({{"inbound_ports_include", "*,22"}}).find("'*' cannot be combined"),
            std::string::npos);
  EXPECT_NE(parseError({{"dns_capture", "some"}}).find("none, host-resolvers, all"),
            std::string::npos);
  EXPECT_NE(parseError({{"exclude_interfaces", "eth0\" accept"}}).find("not an interface name"),
            std::string::npos);
  EXPECT_NE(parseError({{"ipv6", "maybe"}}).find("auto, true, false"), std::string::npos);
  EXPECT_NE(parseError({{"capture_everything", "yes"}}).find("unknown capture option"),
            std::string::npos);
}

TEST(CaptureOptions, CrossFieldChecks) {
  EXPECT_NE(parseError({{"inbound_capture_port", "15001"}}).find("must differ"), std::string::npos);
  EXPECT_NE(parseError({{"inbound_ports_include", "80,8080"}, {"inbound_ports_exclude", "8080"}})
                .find("8080 also in inbound_ports_include"),
            std::string::npos);
}

TEST(OptionsFile, LinesKeepTheirLocation) {
  auto options = parseOptionsText("# capture\nproxy_uid = 998\n\ndns_capture = \"all\"\n",
                                  "/etc/capture.conf");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->at("proxy_uid").location, "/etc/capture.conf:2");
  EXPECT_EQ(options->at("dns_capture").value, "all");
  auto config = parseCaptureOptions(
      parseOptionsText("proxy_uid = 998\ninbound_capture_port = 0\n", "c.conf").value());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail,
            "c.conf:2: capture option inbound_capture_port: '0' is not a port (1-65535)");
  auto bad = parseOptionsText("proxy_uid 998\n", "c.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("c.conf:1: expected 'name = value'"), std::string::npos);
}

TEST(ResolvConf, NameserversBecomeHostBlocks) {
  auto resolvers = parseResolvConf(
      "# comment\nsearch example\nnameserver 198.18.0.53\nnameserver 2001:2::53\n"
      "nameserver fe80::1%eth0\nnameserver 198.18.0.53\n");
  ASSERT_EQ(resolvers.size(), 2u);
  EXPECT_EQ(resolvers[0].text(), "198.18.0.53/32");
  EXPECT_EQ(resolvers[1].text(), "2001:2::53/128");
}

}  // namespace
}  // namespace meshnode::iptables
