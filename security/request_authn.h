#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "security/jwt.h"

// RequestAuthentication for one workload: which token a request carries, whether it verifies,
// and which headers change as a result. Pure computation over the request's headers: runs on
// the worker that owns the request.
namespace meshnode::security {

// One jwtRules entry, compiled.
struct JwtRule {
  JwtProvider provider;
  JwtLocations locations;  // fromHeaders / fromParams; default Authorization: Bearer, access_token
  bool forward_original_token = false;
  std::string output_payload_to_header;  // lower case; empty: none
  // outputClaimToHeaders: header (lower case) <- claim ("a.b" reaches a nested claim).
  std::vector<std::pair<std::string, std::string>> output_claim_to_headers;
};

struct JwtHeaderChanges {
  std::vector<std::string> remove;                       // lower-case names
  std::vector<std::pair<std::string, std::string>> set;  // replace any existing value
};

struct JwtOutcome {
  enum class Status {
    kNoToken,   // nothing to verify: the request goes on without a request principal
    kVerified,  // `jwt` holds the claims for authorization
    kInvalid,   // a token was present and did not verify: answer 401 with `error`
  };
  Status status = Status::kNoToken;
  std::optional<VerifiedJwt> jwt;
  std::optional<Error> error;
  JwtHeaderChanges headers;
};

// Istio's semantics: each rule looks for a token where it is configured to; the request is
// authenticated by the first rule whose token verifies. A request with no token at all passes
// (authorization may still require a principal). A request whose tokens all fail is invalid,
// with the error of the first failure.
JwtOutcome authenticateRequest(const std::vector<JwtRule>& rules,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view query, SystemTime now);

}  // namespace meshnode::security
