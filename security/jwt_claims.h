#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace meshnode::security {

// The verified claims of a JWT, shared read-only by authorization and header output. Cheap to
// copy.
class JwtClaims {
 public:
  JwtClaims() = default;
  explicit JwtClaims(std::shared_ptr<const nlohmann::json> claims);

  bool empty() const { return !claims_; }
  const nlohmann::json* root() const { return claims_.get(); }

  // What request.auth.claims[a][b] compares against: the claim at the nested path when it is a
  // string, or each string of it when it is a list. Other types yield nothing.
  std::vector<std::string> strings(const std::vector<std::string>& path) const;
  // The value outputClaimToHeaders writes: a string as is, a number or boolean as JSON text,
  // a list of those joined with ','. nullopt when absent or an object.
  std::optional<std::string> headerValue(const std::vector<std::string>& path) const;

  std::string issuer() const;
  std::string subject() const;
  std::vector<std::string> audiences() const;  // "aud" as a string or a list
  std::string presenter() const;               // "azp"
  // Istio's request principal: "<iss>/<sub>".
  std::string principal() const;

 private:
  std::shared_ptr<const nlohmann::json> claims_;
};

// Splits "a.b" style paths of outputClaimToHeaders and authorization keys into segments.
std::vector<std::string> splitClaimPath(std::string_view dotted);

}  // namespace meshnode::security
