#include "security/spiffe_id.h"

#include <vector>

namespace meshnode::security {

std::string SpiffeId::uri() const {
  return "spiffe://" + principal();
}

std::string SpiffeId::principal() const {
  return trust_domain + "/ns/" + ns + "/sa/" + sa;
}

bool validTrustDomain(std::string_view td) {
  if (td.empty() || td.size() > 255) return false;
  for (char c : td) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

namespace {

// Kubernetes names: namespaces and service accounts are DNS labels/subdomains; the mesh also
// sees names from VMs, so any of [A-Za-z0-9._-] is accepted, nothing that needs escaping.
bool validSegment(std::string_view s) {
  if (s.empty() || s.size() > 253 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Error bad(std::string_view uri, const char* why) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                   "SPIFFE ID '" + std::string(uri) + "': " + why);
}

}  // namespace

Result<SpiffeId> parseSpiffeId(std::string_view uri) {
  constexpr std::string_view kScheme = "spiffe://";
  if (uri.substr(0, kScheme.size()) != kScheme) return bad(uri, "scheme is not spiffe://");
  std::string_view rest = uri.substr(kScheme.size());
  std::vector<std::string_view> parts;
  while (true) {
    size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (!validTrustDomain(parts[0])) return bad(uri, "invalid trust domain");
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa") {
    return bad(uri, "path is not /ns/<namespace>/sa/<service account>");
  }
  if (!validSegment(parts[2])) return bad(uri, "invalid namespace");
  if (!validSegment(parts[4])) return bad(uri, "invalid service account");
  return SpiffeId{std::string(parts[0]), std::string(parts[2]), std::string(parts[4])};
}

}  // namespace meshnode::security
