#include "iptables/capture_config.h"

#include <sstream>

#include <arpa/inet.h>

#include "common/file.h"

namespace meshnode::iptables {

std::string Cidr::addressText() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family == Family::kIPv4 ? AF_INET : AF_INET6, address.data(), buf, sizeof(buf));
  return buf;
}

std::string Cidr::text() const {
  return addressText() + "/" + std::to_string(prefix);
}

std::optional<Cidr> parseCidr(const std::string& text, std::string* error) {
  Cidr cidr;
  std::string addr = text;
  std::string prefix_text;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
  }
  if (::inet_pton(AF_INET, addr.c_str(), cidr.address.data()) == 1) {
    cidr.family = Family::kIPv4;
  } else if (::inet_pton(AF_INET6, addr.c_str(), cidr.address.data()) == 1) {
    cidr.family = Family::kIPv6;
  } else {
    *error = "'" + text + "' is not an IPv4 or IPv6 address or CIDR block";
    return std::nullopt;
  }
  cidr.prefix = cidr.maxPrefix();
  if (!prefix_text.empty() || text.find('/') != std::string::npos) {
    int value = -1;
    bool digits = !prefix_text.empty() && prefix_text.size() <= 3 &&
                  prefix_text.find_first_not_of("0123456789") == std::string::npos;
    if (digits) value = std::stoi(prefix_text);
    if (value < 0 || value > cidr.maxPrefix()) {
      *error = "'" + text + "' has an invalid prefix length (0-" +
               std::to_string(cidr.maxPrefix()) + ")";
      return std::nullopt;
    }
    cidr.prefix = value;
  }
  int bytes = cidr.maxPrefix() / 8;
  for (int i = 0; i < bytes; ++i) {
    int bits = cidr.prefix - i * 8;
    uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    if ((cidr.address[static_cast<size_t>(i)] & ~mask & 0xff) != 0) {
      Cidr masked = cidr;
      for (int j = i; j < bytes; ++j) {
        int b = cidr.prefix - j * 8;
        uint8_t m = b >= 8 ? 0xff : b <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - b));
        masked.address[static_cast<size_t>(j)] &= m;
      }
      *error = "'" + text + "' has host bits set; did you mean " + masked.text() + "?";
      return std::nullopt;
    }
  }
  return cidr;
}

std::vector<Cidr> parseResolvConf(const std::string& text) {
  std::vector<Cidr> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    // A scoped address ("fe80::1%eth0") cannot be matched by a rule; it is left uncaptured.
    std::string ignored;
    if (auto cidr = parseCidr(value, &ignored); cidr && cidr->prefix == cidr->maxPrefix()) {
      bool seen = false;
      for (const auto& c : out)
        seen = seen || c == *cidr;
      if (!seen) out.push_back(*cidr);
    }
  }
  return out;
}

HostFacts readHostFacts() {
  HostFacts facts;
  auto if_inet6 = readFile("/proc/net/if_inet6");
  facts.ipv6_available = if_inet6.ok();
  if (auto resolv = readFile("/etc/resolv.conf"); resolv.ok()) {
    facts.resolvers = parseResolvConf(resolv.value());
  }
  return facts;
}

const char* toString(DnsCapture mode) {
  switch (mode) {
    case DnsCapture::kNone:
      return "none";
    case DnsCapture::kHostResolvers:
      return "host-resolvers";
    case DnsCapture::kAll:
      return "all";
  }
  return "?";
}

const char* toString(Ipv6Mode mode) {
  switch (mode) {
    case Ipv6Mode::kAuto:
      return "auto";
    case Ipv6Mode::kOn:
      return "true";
    case Ipv6Mode::kOff:
      return "false";
  }
  return "?";
}

}  // namespace meshnode::iptables
