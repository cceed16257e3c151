#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace meshnode::security {

// A mesh workload identity, spiffe://<trust_domain>/ns/<ns>/sa/<sa>, the only URI SAN form
// the mesh issues and accepts.
struct SpiffeId {
  std::string trust_domain;
  std::string ns;
  std::string sa;

  // "spiffe://cluster.local/ns/default/sa/sleep"
  std::string uri() const;
  // "cluster.local/ns/default/sa/sleep": what AuthorizationPolicy `principals` match against.
  std::string principal() const;

  bool operator==(const SpiffeId&) const = default;
};

// Parses the Istio form strictly: lower-case scheme, a trust domain of DNS characters, exactly
// the segments ns/<ns>/sa/<sa>, no query, fragment, port, user info or percent-encoding.
Result<SpiffeId> parseSpiffeId(std::string_view uri);

// A trust domain as SPIFFE allows it: lower-case letters, digits, '.', '-', '_'.
bool validTrustDomain(std::string_view td);

}  // namespace meshnode::security
