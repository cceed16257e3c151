#include "security/sni.h"

#include <charconv>

namespace meshnode::security {

std::string outboundSni(uint16_t port, std::string_view subset, std::string_view fqdn) {
  std::string out = "outbound_.";
  out += std::to_string(port);
  out += "_.";
  out += subset;
  out += "_.";
  out += fqdn;
  return out;
}

std::optional<OutboundSni> parseOutboundSni(std::string_view sni) {
  constexpr std::string_view kPrefix = "outbound_.";
  if (sni.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  sni.remove_prefix(kPrefix.size());
  size_t port_end = sni.find("_.");
  if (port_end == std::string_view::npos || port_end == 0) return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(sni.data(), sni.data() + port_end, value);
  if (ec != std::errc() || ptr != sni.data() + port_end || value == 0 || value > 65535) {
    return std::nullopt;
  }
  sni.remove_prefix(port_end + 2);
  size_t subset_end = sni.find("_.");
  if (subset_end == std::string_view::npos) return std::nullopt;
  OutboundSni out;
  out.port = static_cast<uint16_t>(value);
  out.subset = sni.substr(0, subset_end);
  out.fqdn = sni.substr(subset_end + 2);
  if (out.fqdn.empty()) return std::nullopt;
  return out;
}

}  // namespace meshnode::security
