#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// Reads the snapshot's `security` object (docs/snapshot.md, "Security"): identity files,
// PeerAuthentication modes, path normalization, AuthorizationPolicies (compiled here) and
// JWT rules. Errors read "<origin>: field $.security.<path>: <what>".
Result<SecurityConfig> parseSecurityConfig(const nlohmann::json& security,
                                           const std::string& origin);

}  // namespace meshnode::proxy
