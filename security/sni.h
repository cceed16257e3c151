#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshnode::security {

// The SNI a mesh client sends to a peer proxy: outbound_.<port>_.<subset>_.<fqdn>, with "_"
// standing for "no subset" (Istio's name for the destination cluster, '|' spelled "_.").
std::string outboundSni(uint16_t port, std::string_view subset, std::string_view fqdn);

struct OutboundSni {
  uint16_t port = 0;
  std::string subset;  // empty when the SNI says "_"
  std::string fqdn;
};

// Splits an SNI of the form above; nullopt for any other server name.
std::optional<OutboundSni> parseOutboundSni(std::string_view sni);

}  // namespace meshnode::security
