#include "proxy/http/cors.h"

#include "proxy/router/router.h"

namespace meshnode::proxy {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

void addOriginHeaders(HeaderList& headers, const CorsPolicy& policy, const std::string& origin) {
  setHeader(headers, "access-control-allow-origin", origin);
  if (policy.allow_credentials.value_or(false))
    setHeader(headers, "access-control-allow-credentials", "true");
}

}  // namespace

const std::string* allowedOrigin(const CorsPolicy& policy, const RequestHead& request) {
  const std::string* origin = findHeader(request.headers, "origin");
  if (!origin || origin->empty()) return nullptr;
  for (const auto& m : policy.allow_origins) {
    if (m.kind == StringMatchKind::kAbsent) continue;
    if (matchString(m, *origin)) return origin;
  }
  return nullptr;
}

bool isCorsPreflight(const RequestHead& request) {
  return request.method == "OPTIONS" && findHeader(request.headers, "origin") &&
         findHeader(request.headers, "access-control-request-method");
}

HeaderList corsPreflightHeaders(const CorsPolicy& policy, const std::string& origin) {
  HeaderList headers;
  addOriginHeaders(headers, policy, origin);
  if (!policy.allow_methods.empty())
    headers.emplace_back("access-control-allow-methods", join(policy.allow_methods));
  if (!policy.allow_headers.empty())
    headers.emplace_back("access-control-allow-headers", join(policy.allow_headers));
  if (policy.max_age.count() > 0)
    headers.emplace_back("access-control-max-age", std::to_string(policy.max_age.count() / 1000));
  return headers;
}

void addCorsResponseHeaders(HeaderList& headers, const CorsPolicy& policy,
                            const std::string& origin) {
  addOriginHeaders(headers, policy, origin);
  if (!policy.expose_headers.empty())
    setHeader(headers, "access-control-expose-headers", join(policy.expose_headers));
}

}  // namespace meshnode::proxy
