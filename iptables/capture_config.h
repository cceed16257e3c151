#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshnode::iptables {

enum class Family { kIPv4, kIPv6 };

// An address block as the kernel stores it: host bits are always zero.
struct Cidr {
  Family family = Family::kIPv4;
  std::array<uint8_t, 16> address{};
  int prefix = 0;

  int maxPrefix() const { return family == Family::kIPv4 ? 32 : 128; }
  std::string addressText() const;
  // "198.18.0.0/15", "2001:2::/48", "198.18.0.1/32": the form iptables-save prints.
  std::string text() const;
  bool operator==(const Cidr&) const = default;
};

// Parses "198.18.0.0/15", "2001:2::1" (a host) and rejects set host bits, so what is written
// is what the kernel shows.
std::optional<Cidr> parseCidr(const std::string& text, std::string* error);

// Which DNS traffic is sent to the DNS proxy: none, only queries to the host's resolvers
// (from /etc/resolv.conf), or every query to port 53.
enum class DnsCapture { kNone, kHostResolvers, kAll };

enum class Ipv6Mode { kAuto, kOn, kOff };

// What to capture. Each field has the name of its option (`proxy_uid` is `--proxy-uid` on the
// command line and `proxy_uid` or `proxy-uid` in agent.toml); docs/capture.md lists them.
struct CaptureConfig {
  uint32_t proxy_uid = 1337;
  uint32_t proxy_gid = 1337;
  uint16_t outbound_capture_port = 15001;
  uint16_t inbound_capture_port = 15006;
  uint16_t dns_capture_port = 15053;

  // Inbound: every port but the excluded ones, or only the listed ports.
  bool inbound_ports_all = true;
  std::vector<uint16_t> inbound_ports_include;
  std::vector<uint16_t> inbound_ports_exclude;

  // Outbound: every destination but the excluded blocks, or only the listed blocks.
  bool outbound_ips_all = true;
  std::vector<Cidr> outbound_ips_include;
  std::vector<Cidr> outbound_ips_exclude;
  std::vector<uint16_t> outbound_ports_exclude;

  std::vector<std::string> exclude_interfaces;
  std::vector<uint32_t> exclude_uids;
  std::vector<uint32_t> exclude_gids;

  DnsCapture dns_capture = DnsCapture::kNone;
  Ipv6Mode ipv6 = Ipv6Mode::kAuto;
};

// SSH and meshnode's own status ports: never captured inbound unless listed by number in
// inbound_ports_include.
inline constexpr std::array<uint16_t, 5> kSafetyPorts = {22, 15000, 15020, 15021, 15090};

// Facts read from the host that the rules depend on; passed in so rendering is a pure function.
struct HostFacts {
  bool ipv6_available = false;
  std::vector<Cidr> resolvers;  // nameservers of /etc/resolv.conf, as /32 or /128
};

// Reads /proc/net/if_inet6 and /etc/resolv.conf.
HostFacts readHostFacts();
// The nameserver lines of a resolv.conf text.
std::vector<Cidr> parseResolvConf(const std::string& text);

const char* toString(DnsCapture mode);
const char* toString(Ipv6Mode mode);

}  // namespace meshnode::iptables
