#include "security/request_authn.h"

namespace meshnode::security {

namespace {

// The token of `rule` and the header it came from ("" for a query parameter).
std::optional<std::pair<std::string, std::string>> findToken(
    const JwtRule& rule, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view query) {
  for (const JwtHeaderLocation& loc : rule.locations.headers) {
    JwtLocations one;
    one.headers = {loc};
    one.params.clear();
    if (auto token = extractJwt(one, headers, "")) return std::pair{*token, loc.name};
  }
  JwtLocations params;
  params.headers.clear();
  params.params = rule.locations.params;
  if (auto token = extractJwt(params, headers, query)) return std::pair{*token, std::string()};
  return std::nullopt;
}

}  // namespace

JwtOutcome authenticateRequest(const std::vector<JwtRule>& rules,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               std::string_view query, SystemTime now) {
  JwtOutcome out;
  for (const JwtRule& rule : rules) {
    auto found = findToken(rule, headers, query);
    if (!found) continue;
    auto verified = verifyJwt(found->first, rule.provider, now);
    if (!verified) {
      if (!out.error) out.error = verified.error();
      continue;
    }
    out.status = JwtOutcome::Status::kVerified;
    out.error.reset();
    if (!rule.forward_original_token && !found->second.empty()) {
      out.headers.remove.push_back(found->second);
    }
    if (!rule.output_payload_to_header.empty()) {
      out.headers.set.emplace_back(rule.output_payload_to_header, verified->payload_b64);
    }
    for (const auto& [header, claim] : rule.output_claim_to_headers) {
      if (auto value = verified->claims.headerValue(splitClaimPath(claim))) {
        out.headers.set.emplace_back(header, *value);
      }
    }
    out.jwt = std::move(verified).value();
    return out;
  }
  if (out.error) out.status = JwtOutcome::Status::kInvalid;
  return out;
}

}  // namespace meshnode::security
