#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshnode::security {

// The SNI a mesh client sends to a peer proxy: outbound_.<port>_.<subset>_.<fqdn>, Istio's
// name of the destination cluster (outbound|port|subset|fqdn) with each '|' spelled "_.";
// without a subset: outbound_.80_._.httpbin.foo.svc.cluster.local.
std::string outboundSni(uint16_t port, std::string_view subset, std::string_view fqdn);

struct OutboundSni {
  uint16_t port = 0;
  std::string subset;  // empty without a subset
  std::string fqdn;
};

// Splits an SNI of the form above; nullopt for any other server name.
std::optional<OutboundSni> parseOutboundSni(std::string_view sni);

}  // namespace meshnode::security
