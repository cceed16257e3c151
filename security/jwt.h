#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "security/jwks.h"
#include "security/jwt_claims.h"

// JWT verification with RequestAuthentication's semantics. Pure computation on immutable
// inputs: safe on any worker thread.
namespace meshnode::security {

using SystemTime = std::chrono::system_clock::time_point;

enum class JwsAlg { kRS256, kRS384, kRS512, kPS256, kPS384, kPS512, kES256, kES384, kEdDSA };

// "RS256" -> kRS256. "none" and the HMAC algorithms are refused by name, so a token cannot
// downgrade verification to a shared secret or to nothing.
Result<JwsAlg> parseJwsAlg(std::string_view name);
const char* toString(JwsAlg alg);

// A compact JWS split and decoded; the signature is not checked yet.
struct CompactJws {
  JwsAlg alg = JwsAlg::kRS256;
  std::string kid;
  std::string header_json;
  std::string payload;      // decoded bytes
  std::string payload_b64;  // as it appeared in the token
  std::string signature;    // decoded bytes
  std::string signing_input;
};

// The default token size limit; tokens travel in headers, and a larger one is an attack or
// a mistake.
inline constexpr size_t kDefaultMaxTokenBytes = 16 * 1024;

Result<CompactJws> parseCompactJws(std::string_view token,
                                   size_t max_bytes = kDefaultMaxTokenBytes);
// Verifies the signature with the key named by `kid` or, without a kid, any key that fits the
// alg. An unknown kid is refused.
Status verifyJwsSignature(const CompactJws& jws, const Jwks& jwks);

// One jwtRules entry of a RequestAuthentication, compiled.
struct JwtProvider {
  std::string issuer;
  // Empty: any audience (Envoy's behaviour when none is configured).
  std::vector<std::string> audiences;
  std::shared_ptr<const Jwks> jwks;
  std::chrono::seconds clock_skew = std::chrono::seconds(60);
  size_t max_token_bytes = kDefaultMaxTokenBytes;
};

struct VerifiedJwt {
  JwsAlg alg = JwsAlg::kRS256;
  std::string kid;
  JwtClaims claims;
  std::string payload_b64;  // what outputPayloadToHeader forwards

  std::string principal() const { return claims.principal(); }
};

// Parses, verifies the signature, then checks iss, aud, exp and nbf (with clock skew). Every
// failure is a downstream kRefused Error whose detail says what was wrong; the proxy answers
// 401 with it.
Result<VerifiedJwt> verifyJwt(std::string_view token, const JwtProvider& provider, SystemTime now);

// Where RequestAuthentication looks for a token: fromHeaders (name, prefix) and fromParams.
// The default is "Authorization: Bearer <token>" and the query parameter access_token.
struct JwtHeaderLocation {
  std::string name;  // lower case
  std::string prefix;
};
struct JwtLocations {
  std::vector<JwtHeaderLocation> headers = {{"authorization", "Bearer "}};
  std::vector<std::string> params = {"access_token"};
};

// The first token found: each header location in order, then each query parameter of
// `query` (the part after '?', undecoded). `headers` holds lower-case names.
std::optional<std::string> extractJwt(
    const JwtLocations& locations, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view query);

}  // namespace meshnode::security
