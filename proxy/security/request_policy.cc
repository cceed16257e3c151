#include "proxy/security/request_policy.h"

#include <chrono>

#include "common/log.h"
#include "proxy/network/socket_options.h"
#include "proxy/stats/stats.h"
#include "security/authz_request.h"
#include "security/path_normalization.h"
#include "security/request_authn.h"

namespace meshnode::proxy {
namespace {

constexpr const char* kXfcc = "x-forwarded-client-cert";

void fillConnection(const ConnectionInfo& info, security::AuthzRequest* r) {
  if (info.peer_spiffe_id.starts_with("spiffe://"))
    r->source_principal = info.peer_spiffe_id.substr(9);
  r->source_namespace = info.peer_namespace;
  r->source_ip = info.downstream_remote.address().to_string();
  if (info.original_dst) r->destination_ip = info.original_dst->address().to_string();
  r->destination_port = info.port;
  r->sni = info.sni;
}

std::string who(const ConnectionInfo& info) {
  std::string s = toString(info.downstream_remote);
  if (!info.peer_spiffe_id.empty()) s += " (" + info.peer_spiffe_id + ")";
  return s;
}

void reply(DownstreamStream& ds, int status, const std::string& body, HeaderList headers = {}) {
  sendLocalReply(ds, status, body, std::move(headers));
}

}  // namespace

bool authorizeConnection(const Snapshot& snapshot, const ConnectionInfo& info) {
  if (info.direction != Direction::kInbound || !snapshot.security.authz) return true;
  security::AuthzRequest r;
  r.is_http = false;
  fillConnection(info, &r);
  auto decision = snapshot.security.authz->evaluate(r);
  if (decision.audit)
    LOG_NOTICE("audit: connection from %s to port %u matched %s", who(info).c_str(), info.port,
               decision.audit_policy.c_str());
  if (decision.allowed) return true;
  bump(Stats::get().downstream_cx_refused_total);
  LOG_INFO("connection from %s to port %u %s", who(info).c_str(), info.port,
           decision.describe().c_str());
  return false;
}

bool admitRequest(const Snapshot& snapshot, const ConnectionInfo& info, DownstreamStream& ds) {
  if (info.direction != Direction::kInbound) return true;
  const SecurityConfig& sec = snapshot.security;
  RequestHead& req = ds.request;

  // The identity of the peer is this proxy's to state: whatever a client wrote is dropped.
  removeHeader(req.headers, kXfcc);
  if (!info.forwarded_client_cert.empty())
    req.headers.emplace_back(kXfcc, info.forwarded_client_cert);

  auto [raw_path, query] = security::splitPathAndQuery(req.path);
  auto path = security::normalizePath(raw_path, sec.path_normalization);
  if (!path) {
    reply(ds, 400, "bad request path: " + path.error().detail);
    return false;
  }
  std::string query_copy(query);
  req.path = *path + (query_copy.empty() ? "" : "?" + query_copy);

  security::JwtOutcome jwt;
  if (!sec.jwt_rules.empty()) {
    jwt = security::authenticateRequest(sec.jwt_rules, req.headers, query_copy,
                                        std::chrono::system_clock::now());
    if (jwt.status == security::JwtOutcome::Status::kInvalid) {
      std::string why = jwt.error ? jwt.error->detail : "invalid token";
      LOG_INFO("request from %s: JWT refused: %s", who(info).c_str(), why.c_str());
      reply(ds, 401, "Jwt verification fails: " + why,
            {{"www-authenticate", "Bearer realm=\"" + req.authority + "\""}});
      return false;
    }
    for (const auto& name : jwt.headers.remove)
      removeHeader(req.headers, name);
    for (const auto& [name, value] : jwt.headers.set)
      setHeader(req.headers, name, value);
  }

  if (!sec.authz) return true;
  security::AuthzRequest r;
  fillConnection(info, &r);
  if (jwt.jwt) {
    r.request_principal = jwt.jwt->principal();
    r.claims = jwt.jwt->claims;
  }
  if (const std::string* xff = findHeader(req.headers, "x-forwarded-for")) {
    auto comma = xff->find(',');
    r.remote_ip = xff->substr(0, comma);
  }
  r.host = req.authority;
  r.method = req.method;
  r.path = *path;
  r.headers = req.headers;
  auto decision = sec.authz->evaluate(r);
  if (decision.audit)
    LOG_NOTICE("audit: %s %s from %s matched %s", req.method.c_str(), path->c_str(),
               who(info).c_str(), decision.audit_policy.c_str());
  if (decision.allowed) return true;
  LOG_INFO("%s %s from %s %s", req.method.c_str(), path->c_str(), who(info).c_str(),
           decision.describe().c_str());
  reply(ds, 403, "RBAC: access denied");
  return false;
}

}  // namespace meshnode::proxy
