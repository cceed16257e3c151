#include "proxy/snapshot/security_json.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "proxy/snapshot/json_reader.h"
#include "security/jwks.h"

namespace meshnode::proxy {
namespace {

using nlohmann::json;

security::MtlsMode readMode(JsonReader& r, const json& o, const std::string& path,
                            const char* key) {
  std::string v = r.str(o, path, key);
  if (v.empty()) return security::MtlsMode::kUnset;
  auto m = security::parseMtlsMode(v);
  if (!m) r.fail(path + "." + key, "\"" + v + "\" is not one of: STRICT, PERMISSIVE, DISABLE");
  return m ? *m : security::MtlsMode::kUnset;
}

void readPeerAuthentication(JsonReader& r, const json& o, const std::string& p,
                            SecurityConfig* out) {
  if (!r.object(o, p, {"mode", "port_modes"})) return;
  auto mode = readMode(r, o, p, "mode");
  if (mode != security::MtlsMode::kUnset) out->mtls_mode = mode;
  auto ports = o.find("port_modes");
  if (ports == o.end()) return;
  if (!ports->is_object()) return r.fail(p + ".port_modes", "must be an object of port: mode");
  for (auto it = ports->begin(); it != ports->end(); ++it) {
    std::string pp = p + ".port_modes." + it.key();
    char* end = nullptr;
    unsigned long port = std::strtoul(it.key().c_str(), &end, 10);
    if (it.key().empty() || *end != '\0' || port == 0 || port > 65535)
      return r.fail(pp, "the key must be a port 1..65535");
    json holder = {{"mode", *it}};
    auto m = readMode(r, holder, pp, "mode");
    if (m != security::MtlsMode::kUnset) out->port_mtls[static_cast<uint16_t>(port)] = m;
  }
}

security::AuthzPolicy readPolicy(JsonReader& r, const json& o, const std::string& p) {
  security::AuthzPolicy policy;
  if (!r.object(o, p, {"namespace", "name", "origin", "action", "rules"})) return policy;
  policy.ns = r.str(o, p, "namespace");
  policy.name = r.str(o, p, "name", true);
  policy.origin = r.str(o, p, "origin");
  std::string action = r.str(o, p, "action");
  if (action.empty() || action == "ALLOW")
    policy.action = security::AuthzAction::kAllow;
  else if (action == "DENY")
    policy.action = security::AuthzAction::kDeny;
  else if (action == "AUDIT")
    policy.action = security::AuthzAction::kAudit;
  else if (action == "CUSTOM")
    r.fail(p + ".action", "CUSTOM is not supported");
  else
    r.fail(p + ".action", "\"" + action + "\" is not one of: ALLOW, DENY, AUDIT");
  r.forEach(o, p, "rules", [&](const json& ro, const std::string& rp) {
    security::AuthzRule rule;
    if (!r.object(ro, rp, {"from", "to", "when"})) return;
    r.forEach(ro, rp, "from", [&](const json& s, const std::string& sp) {
      if (!r.object(s, sp,
                    {"principals", "not_principals", "request_principals", "not_request_principals",
                     "namespaces", "not_namespaces", "ip_blocks", "not_ip_blocks",
                     "remote_ip_blocks", "not_remote_ip_blocks"}))
        return;
      security::AuthzSource src;
      for (const auto& f : security::kAuthzSourceFields)
        src.*f.member = r.strings(s, sp, f.snapshot);
      rule.from.push_back(std::move(src));
    });
    r.forEach(ro, rp, "to", [&](const json& op, const std::string& opp) {
      if (!r.object(op, opp,
                    {"hosts", "not_hosts", "ports", "not_ports", "methods", "not_methods", "paths",
                     "not_paths"}))
        return;
      security::AuthzOperation operation;
      for (const auto& f : security::kAuthzOperationFields)
        operation.*f.member = r.strings(op, opp, f.snapshot);
      rule.to.push_back(std::move(operation));
    });
    r.forEach(ro, rp, "when", [&](const json& wo, const std::string& wp) {
      if (!r.object(wo, wp, {"key", "values", "not_values"})) return;
      security::AuthzCondition c;
      c.key = r.str(wo, wp, "key", true);
      c.values = r.strings(wo, wp, "values");
      c.not_values = r.strings(wo, wp, "not_values");
      rule.when.push_back(std::move(c));
    });
    policy.rules.push_back(std::move(rule));
  });
  return policy;
}

security::JwtRule readJwtRule(JsonReader& r, const json& o, const std::string& p) {
  security::JwtRule rule;
  if (!r.object(o, p,
                {"issuer", "audiences", "jwks", "from_headers", "from_params",
                 "forward_original_token", "output_payload_to_header", "output_claim_to_headers"}))
    return rule;
  rule.provider.issuer = r.str(o, p, "issuer", true);
  rule.provider.audiences = r.strings(o, p, "audiences");
  std::string jwks = r.str(o, p, "jwks", true);
  // {"keys":[]} is what the agent writes for a jwksUri it has not fetched yet: the rule stands,
  // with no key, so every token of that issuer is refused ("has no keys") instead of trusted.
  if (!r.failed() && json::parse(jwks, nullptr, false) == json{{"keys", json::array()}}) {
    rule.provider.jwks = nullptr;
  } else if (!r.failed()) {
    auto keys = security::Jwks::parse(jwks, p + ".jwks");
    if (!keys)
      r.fail(p + ".jwks", keys.error().detail);
    else
      rule.provider.jwks = *keys;
  }
  if (o.contains("from_headers")) {
    rule.locations.headers.clear();
    r.forEach(o, p, "from_headers", [&](const json& h, const std::string& hp) {
      if (!r.object(h, hp, {"name", "prefix"})) return;
      std::string name = r.str(h, hp, "name", true);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rule.locations.headers.push_back({name, r.str(h, hp, "prefix")});
    });
  }
  if (o.contains("from_params")) rule.locations.params = r.strings(o, p, "from_params");
  if (o.contains("from_headers") && !o.contains("from_params")) rule.locations.params.clear();
  if (o.contains("from_params") && !o.contains("from_headers")) rule.locations.headers.clear();
  rule.forward_original_token = r.boolean(o, p, "forward_original_token", false);
  rule.output_payload_to_header = r.str(o, p, "output_payload_to_header");
  for (auto& c : rule.output_payload_to_header)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  r.forEach(o, p, "output_claim_to_headers", [&](const json& h, const std::string& hp) {
    if (!r.object(h, hp, {"header", "claim"})) return;
    std::string header = r.str(h, hp, "header", true);
    for (auto& c : header)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rule.output_claim_to_headers.emplace_back(header, r.str(h, hp, "claim", true));
  });
  return rule;
}

}  // namespace

Result<SecurityConfig> parseSecurityConfig(const json& o, const std::string& origin) {
  JsonReader r(origin);
  SecurityConfig out;
  const std::string p = "$.security";
  if (!r.object(o, p,
                {"identity", "auto_mtls", "peer_authentication", "path_normalization",
                 "authorization_policies", "jwt_rules"}))
    return r.takeError();
  if (auto id = o.find("identity"); id != o.end()) {
    std::string ip = p + ".identity";
    if (r.object(*id, ip, {"cert_chain", "key", "root_cert"})) {
      out.cert_chain = r.str(*id, ip, "cert_chain", true);
      out.key = r.str(*id, ip, "key", true);
      out.root_cert = r.str(*id, ip, "root_cert", true);
    }
  }
  out.auto_mtls = r.boolean(o, p, "auto_mtls", true);
  if (auto pa = o.find("peer_authentication"); pa != o.end())
    readPeerAuthentication(r, *pa, p + ".peer_authentication", &out);
  if (std::string pn = r.str(o, p, "path_normalization"); !pn.empty()) {
    auto mode = security::parsePathNormalization(pn);
    if (!mode)
      r.fail(p + ".path_normalization", mode.error().detail);
    else
      out.path_normalization = *mode;
  }
  std::vector<security::AuthzPolicy> policies;
  r.forEach(o, p, "authorization_policies", [&](const json& po, const std::string& pp) {
    policies.push_back(readPolicy(r, po, pp));
  });
  r.forEach(o, p, "jwt_rules", [&](const json& jo, const std::string& jp) {
    out.jwt_rules.push_back(readJwtRule(r, jo, jp));
  });
  if (r.failed()) return r.takeError();
  if (!policies.empty()) {
    auto engine = security::AuthzEngine::compile(policies);
    if (!engine)
      return makeError(
          ErrorCode::kInvalidArgument, Side::kConfig,
          origin + ": field " + p + ".authorization_policies: " + engine.error().detail);
    out.authz = std::make_shared<const security::AuthzEngine>(std::move(*engine));
  }
  bool needs_identity = out.mtls_mode == security::MtlsMode::kStrict;
  for (const auto& [port, mode] : out.port_mtls)
    needs_identity = needs_identity || mode == security::MtlsMode::kStrict;
  if (needs_identity && !out.hasIdentity())
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     origin + ": field " + p +
                         ".peer_authentication: STRICT needs a workload identity "
                         "($.security.identity)");
  return out;
}

}  // namespace meshnode::proxy
