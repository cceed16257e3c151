#include <algorithm>
#include <cctype>

#include "agent/istio/decode.h"
#include "security/authz_engine.h"
#include "security/jwks.h"

// security.istio.io: PeerAuthentication, AuthorizationPolicy, RequestAuthentication, validated as
// istiod validates them, plus what the proxy's own compilers would refuse, so that a resource the
// loader accepts never makes the proxy refuse a snapshot.
namespace meshnode::istio {
namespace {

std::optional<MtlsMode> decodeMode(const YAML::Node& map, const std::string& p, FieldReader& r) {
  auto name = r.str(map, p, "mode");
  if (!name) return std::nullopt;
  auto mode = security::parseMtlsMode(*name);
  if (!mode) {
    r.error(map["mode"], p + ".mode",
            "\"" + *name + "\" is not one of: UNSET, DISABLE, PERMISSIVE, STRICT");
    return std::nullopt;
  }
  return *mode;
}

// A list of non-empty strings; Istio refuses "" in every security list.
std::vector<std::string> values(const YAML::Node& map, const std::string& p, const char* key,
                                FieldReader& r) {
  auto out = r.strings(map, p, key);
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].empty()) r.error(map[key][i], at(p + "." + key, i), "must not be empty");
  return out;
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isPort(const std::string& v) {
  if (v.empty() || v.size() > 5 || !std::all_of(v.begin(), v.end(), isDigit)) return false;
  int n = std::stoi(v);
  return n >= 1 && n <= 65535;
}

void checkEach(const YAML::Node& map, const std::string& p, const char* key,
               const std::vector<std::string>& items, FieldReader& r,
               bool (*ok)(const std::string&), const char* what) {
  for (size_t i = 0; i < items.size(); ++i)
    if (!items[i].empty() && !ok(items[i]))
      r.error(map[key][i], at(p + "." + key, i), "\"" + items[i] + "\" " + what);
}

// A token of RFC 9110: what an HTTP header name may hold.
bool isHeaderName(const std::string& v) {
  static const std::string kExtra = "!#$%&'*+-.^_`|~";
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != std::string::npos;
  });
}

// selector.matchLabels; an empty selector selects the whole namespace, as in istiod.
std::optional<Labels> decodeSelector(const YAML::Node& spec, FieldReader& r) {
  const YAML::Node s = spec["selector"];
  if (!s.IsDefined() || s.IsNull()) return std::nullopt;
  if (!r.isMap(s, "spec.selector")) return std::nullopt;
  r.known(s, "spec.selector", {"matchLabels"});
  Labels labels = r.labels(s, "spec.selector", "matchLabels");
  if (labels.empty()) return std::nullopt;
  return labels;
}

// targetRef/targetRefs attach a policy to a Gateway or a Service's waypoint; a host is neither.
bool decodeTargetRefs(const YAML::Node& spec, bool has_selector, FieldReader& r) {
  bool any = false;
  for (const char* key : {"targetRef", "targetRefs"}) {
    const YAML::Node n = spec[key];
    if (!n.IsDefined() || n.IsNull()) continue;
    any = true;
    std::string p = std::string("spec.") + key;
    if (has_selector)
      r.error(n, p, "cannot be used together with selector");
    else
      r.warn(n, p,
             "names a gateway or waypoint; not applicable to a host, the policy is not applied "
             "here");
  }
  return any;
}

template <typename T, size_t N>
bool allEmpty(const T& value, const security::AuthzListField<T> (&fields)[N]) {
  return std::all_of(std::begin(fields), std::end(fields),
                     [&](const auto& f) { return (value.*f.member).empty(); });
}

void decodeSource(const YAML::Node& n, const std::string& p, FieldReader& r,
                  security::AuthzSource* s) {
  r.known(n, p,
          {"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces",
           "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
           "serviceAccounts", "notServiceAccounts"});
  // Ignoring a source field would widen an ALLOW rule; refusing keeps the policy as strict as
  // written.
  for (const char* key : {"serviceAccounts", "notServiceAccounts"})
    if (n[key].IsDefined())
      r.error(n[key], p + "." + key, "is not supported by meshnode; use principals");
  for (const auto& f : security::kAuthzSourceFields)
    s->*f.member = values(n, p, f.istio, r);
  for (auto [key, list] : {std::pair{"ipBlocks", &s->ip_blocks},
                           {"notIpBlocks", &s->not_ip_blocks},
                           {"remoteIpBlocks", &s->remote_ip_blocks},
                           {"notRemoteIpBlocks", &s->not_remote_ip_blocks}})
    checkEach(n, p, key, *list, r, isIpOrCidr, "is not an IP address or CIDR block");
  if (allEmpty(*s, security::kAuthzSourceFields) && !r.failed()) r.error(n, p, "must not be empty");
}

void decodeOperation(const YAML::Node& n, const std::string& p, FieldReader& r,
                     security::AuthzOperation* o) {
  r.known(n, p,
          {"hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"});
  for (const auto& f : security::kAuthzOperationFields)
    o->*f.member = values(n, p, f.istio, r);
  checkEach(n, p, "ports", o->ports, r, isPort, "is not a port from 1 to 65535");
  checkEach(n, p, "notPorts", o->not_ports, r, isPort, "is not a port from 1 to 65535");
  if (allEmpty(*o, security::kAuthzOperationFields) && !r.failed())
    r.error(n, p, "must not be empty");
}

// The condition keys of Istio's reference that the proxy evaluates.
bool knownConditionKey(const std::string& key) {
  static const char* kSimple[] = {"source.ip",
                                  "remote.ip",
                                  "source.namespace",
                                  "source.principal",
                                  "request.auth.principal",
                                  "request.auth.audiences",
                                  "request.auth.presenter",
                                  "destination.ip",
                                  "destination.port",
                                  "connection.sni"};
  if (std::any_of(std::begin(kSimple), std::end(kSimple), [&](const char* k) { return key == k; }))
    return true;
  auto bracketed = [&](const std::string& prefix, bool one) {
    if (key.rfind(prefix, 0) != 0) return false;
    size_t i = prefix.size(), count = 0;
    while (i < key.size()) {
      size_t close = key.find(']', i);
      if (key[i] != '[' || close == std::string::npos || close == i + 1) return false;
      i = close + 1;
      ++count;
    }
    return one ? count == 1 : count >= 1;
  };
  return bracketed("request.headers", true) || bracketed("request.auth.claims", false);
}

void decodeCondition(const YAML::Node& n, const std::string& p, FieldReader& r,
                     security::AuthzCondition* c) {
  r.known(n, p, {"key", "values", "notValues"});
  c->key = r.str(n, p, "key", true).value_or("");
  c->values = values(n, p, "values", r);
  c->not_values = values(n, p, "notValues", r);
  if (c->key.empty()) return;
  if (!knownConditionKey(c->key)) {
    r.error(n["key"], p + ".key", "\"" + c->key + "\" is not a supported condition key");
    return;
  }
  if (c->values.empty() && c->not_values.empty())
    r.error(n, p, "needs values or notValues for \"" + c->key + "\"");
  bool ip = c->key == "source.ip" || c->key == "remote.ip" || c->key == "destination.ip";
  if (ip) {
    checkEach(n, p, "values", c->values, r, isIpOrCidr, "is not an IP address or CIDR block");
    checkEach(n, p, "notValues", c->not_values, r, isIpOrCidr,
              "is not an IP address or CIDR block");
  } else if (c->key == "destination.port") {
    checkEach(n, p, "values", c->values, r, isPort, "is not a port from 1 to 65535");
    checkEach(n, p, "notValues", c->not_values, r, isPort, "is not a port from 1 to 65535");
  }
}

// Each entry of `from`, `to` or `when`: a list that, when given, must not be empty.
template <typename F>
void eachEntry(const YAML::Node& rule, const std::string& rp, const char* key, FieldReader& r,
               F each) {
  const YAML::Node list = rule[key];
  if (!list.IsDefined() || list.IsNull()) return;
  std::string p = rp + "." + key;
  if (!r.isSeq(list, p)) return;
  if (list.size() == 0) r.error(list, p, "must not be empty when given");
  for (size_t i = 0; i < list.size(); ++i)
    if (r.isMap(list[i], at(p, i))) each(list[i], at(p, i));
}

// The node a dotted path such as "rules[0].to[1].operation.paths[2]" names under `root`, or the
// deepest one that exists, for the line of an error.
YAML::Node nodeAt(const YAML::Node& root, const std::string& path) {
  // Rebinding with reset(): assigning one yaml-cpp node to another would rewrite the tree.
  YAML::Node node;
  node.reset(root);
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find_first_of(".[", i);
    std::string name = path.substr(i, end == std::string::npos ? end : end - i);
    const YAML::Node& current = node;
    if (!name.empty()) {
      const YAML::Node next = isMapNode(current) ? current[name] : YAML::Node();
      if (!next.IsDefined()) return node;
      node.reset(next);
    }
    i = end == std::string::npos ? path.size() : end;
    while (i < path.size() && path[i] == '[') {
      size_t close = path.find(']', i);
      std::string digits = close == std::string::npos ? "" : path.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 8 ||
          !std::all_of(digits.begin(), digits.end(), isDigit))
        return node;
      size_t index = std::stoul(digits);
      if (!isSeqNode(current) || index >= current.size()) return node;
      const YAML::Node next = current[index];
      node.reset(next);
      i = close + 1;
    }
    if (i < path.size() && path[i] == '.') ++i;
  }
  return node;
}

}  // namespace

void decodePeerAuthentication(const YAML::Node& spec, FieldReader& r, PeerAuthentication* out) {
  const std::string p = "spec";
  r.known(spec, p, {"selector", "mtls", "portLevelMtls"});
  out->selector = decodeSelector(spec, r);
  if (const YAML::Node m = spec["mtls"]; m.IsDefined() && !m.IsNull() && r.isMap(m, p + ".mtls")) {
    r.known(m, p + ".mtls", {"mode"});
    if (m["mode"].IsDefined()) out->mode = decodeMode(m, p + ".mtls", r).value_or(MtlsMode::kUnset);
  }
  const YAML::Node ports = spec["portLevelMtls"];
  if (!ports.IsDefined() || ports.IsNull() || !r.isMap(ports, p + ".portLevelMtls")) return;
  for (const auto& kv : ports) {
    std::string key = kv.first.Scalar();
    std::string pp = p + ".portLevelMtls." + key;
    if (!isPort(key)) {
      r.error(kv.first, pp, "the key must be a port from 1 to 65535");
      continue;
    }
    if (!r.isMap(kv.second, pp)) continue;
    r.known(kv.second, pp, {"mode"});
    auto mode = kv.second["mode"].IsDefined() ? decodeMode(kv.second, pp, r) : MtlsMode::kUnset;
    if (mode) out->port_level[static_cast<uint32_t>(std::stoi(key))] = *mode;
  }
  if (!out->port_level.empty() && !out->selector)
    r.warn(ports, p + ".portLevelMtls",
           "applies only to a policy with a selector, as in Istio; ignored");
}

void decodeAuthorizationPolicy(const YAML::Node& spec, FieldReader& r, AuthorizationPolicy* out) {
  const std::string p = "spec";
  r.known(spec, p, {"selector", "targetRef", "targetRefs", "action", "provider", "rules"});
  out->selector = decodeSelector(spec, r);
  out->has_target_refs = decodeTargetRefs(spec, out->selector.has_value(), r);
  auto action = spec["action"].IsDefined()
                    ? r.choice(spec, p, "action", {"ALLOW", "DENY", "AUDIT", "CUSTOM"})
                    : std::optional<size_t>(0);
  if (action && *action == 3) {
    r.error(spec["action"], p + ".action",
            "CUSTOM (an external authorizer) is not supported by meshnode");
    return;
  }
  if (action) out->action = static_cast<security::AuthzAction>(*action);
  if (spec["provider"].IsDefined())
    r.error(spec["provider"], p + ".provider", "is only valid with action CUSTOM");
  const YAML::Node rules = spec["rules"];
  if (rules.IsDefined() && !rules.IsNull() && r.isSeq(rules, p + ".rules"))
    for (size_t i = 0; i < rules.size(); ++i) {
      std::string rp = at(p + ".rules", i);
      if (!r.isMap(rules[i], rp)) continue;
      security::AuthzRule rule;
      r.known(rules[i], rp, {"from", "to", "when"});
      eachEntry(rules[i], rp, "from", r, [&](const YAML::Node& f, const std::string& fp) {
        r.known(f, fp, {"source"});
        if (!f["source"].IsDefined() || f["source"].IsNull()) {
          r.error(f, fp + ".source", "is required");
        } else if (r.isMap(f["source"], fp + ".source")) {
          rule.from.emplace_back();
          decodeSource(f["source"], fp + ".source", r, &rule.from.back());
        }
      });
      eachEntry(rules[i], rp, "to", r, [&](const YAML::Node& t, const std::string& tp) {
        r.known(t, tp, {"operation"});
        if (!t["operation"].IsDefined() || t["operation"].IsNull()) {
          r.error(t, tp + ".operation", "is required");
        } else if (r.isMap(t["operation"], tp + ".operation")) {
          rule.to.emplace_back();
          decodeOperation(t["operation"], tp + ".operation", r, &rule.to.back());
        }
      });
      eachEntry(rules[i], rp, "when", r, [&](const YAML::Node& w, const std::string& wp) {
        rule.when.emplace_back();
        decodeCondition(w, wp, r, &rule.when.back());
      });
      out->rules.push_back(std::move(rule));
    }
  if (r.failed()) return;
  // What the checks above let through but the proxy's engine refuses (a wildcard in the middle of
  // a path, say): one error at the resource, with the engine's field path.
  security::AuthzPolicy policy;
  policy.ns = "-";
  policy.name = "-";
  policy.action = out->action;
  policy.rules = out->rules;
  if (auto engine = security::AuthzEngine::compile({policy}); !engine) {
    // "policy -/-: rules[0].to[0].operation.paths[0]: why"
    std::string detail = engine.error().detail;
    size_t start = detail.find(": ");
    size_t end = start == std::string::npos ? start : detail.find(": ", start + 2);
    if (end == std::string::npos) {
      r.error(spec, p, detail);
    } else {
      std::string field = detail.substr(start + 2, end - start - 2);
      r.error(nodeAt(spec, field), p + "." + field, detail.substr(end + 2));
    }
  }
}

void decodeRequestAuthentication(const YAML::Node& spec, FieldReader& r,
                                 RequestAuthentication* out) {
  const std::string p = "spec";
  r.known(spec, p, {"selector", "targetRef", "targetRefs", "jwtRules"});
  out->selector = decodeSelector(spec, r);
  out->has_target_refs = decodeTargetRefs(spec, out->selector.has_value(), r);
  const YAML::Node rules = spec["jwtRules"];
  if (!rules.IsDefined() || rules.IsNull() || !r.isSeq(rules, p + ".jwtRules")) return;
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string jp = at(p + ".jwtRules", i);
    const YAML::Node j = rules[i];
    if (!r.isMap(j, jp)) continue;
    r.known(j, jp,
            {"issuer", "audiences", "jwksUri", "jwks", "fromHeaders", "fromParams", "fromCookies",
             "outputPayloadToHeader", "forwardOriginalToken", "outputClaimToHeaders", "timeout"});
    JwtRule rule;
    rule.issuer = r.str(j, jp, "issuer", true).value_or("");
    for (const auto& other : out->jwt_rules)
      if (!rule.issuer.empty() && other.issuer == rule.issuer)
        r.error(j["issuer"], jp + ".issuer", "\"" + rule.issuer + "\" is already used by a rule");
    rule.audiences = values(j, jp, "audiences", r);
    rule.jwks_uri = r.str(j, jp, "jwksUri").value_or("");
    rule.jwks = r.str(j, jp, "jwks").value_or("");
    if (!rule.jwks_uri.empty()) {
      const std::string& u = rule.jwks_uri;
      size_t scheme = u.find("://");
      std::string s = scheme == std::string::npos ? "" : u.substr(0, scheme);
      if ((s != "http" && s != "https") || u.size() <= scheme + 3 || u[scheme + 3] == '/')
        r.error(j["jwksUri"], jp + ".jwksUri", "\"" + u + "\" is not an http or https URL");
    }
    if (!rule.jwks.empty()) {
      if (auto keys = security::Jwks::parse(rule.jwks, "jwks"); !keys)
        r.error(j["jwks"], jp + ".jwks", keys.error().detail.substr(6));
      if (!rule.jwks_uri.empty())
        r.warn(j["jwksUri"], jp + ".jwksUri", "is ignored: jwks is given inline");
    }
    if (const YAML::Node h = j["fromHeaders"];
        h.IsDefined() && !h.IsNull() && r.isSeq(h, jp + ".fromHeaders"))
      for (size_t k = 0; k < h.size(); ++k) {
        std::string hp = at(jp + ".fromHeaders", k);
        if (!r.isMap(h[k], hp)) continue;
        r.known(h[k], hp, {"name", "prefix"});
        JwtHeader header{r.str(h[k], hp, "name", true).value_or(""),
                         r.str(h[k], hp, "prefix").value_or("")};
        if (!header.name.empty() && !isHeaderName(header.name))
          r.error(h[k]["name"], hp + ".name", "\"" + header.name + "\" is not a header name");
        rule.from_headers.push_back(std::move(header));
      }
    rule.from_params = values(j, jp, "fromParams", r);
    rule.from_cookies = values(j, jp, "fromCookies", r);
    if (!rule.from_cookies.empty())
      r.warn(j["fromCookies"], jp + ".fromCookies",
             "is not supported by meshnode; tokens in cookies are not looked for");
    rule.output_payload_to_header = r.str(j, jp, "outputPayloadToHeader").value_or("");
    if (!rule.output_payload_to_header.empty() && !isHeaderName(rule.output_payload_to_header))
      r.error(j["outputPayloadToHeader"], jp + ".outputPayloadToHeader",
              "\"" + rule.output_payload_to_header + "\" is not a header name");
    rule.forward_original_token = r.boolean(j, jp, "forwardOriginalToken").value_or(false);
    if (const YAML::Node c = j["outputClaimToHeaders"];
        c.IsDefined() && !c.IsNull() && r.isSeq(c, jp + ".outputClaimToHeaders"))
      for (size_t k = 0; k < c.size(); ++k) {
        std::string cp = at(jp + ".outputClaimToHeaders", k);
        if (!r.isMap(c[k], cp)) continue;
        r.known(c[k], cp, {"header", "claim"});
        std::string header = r.str(c[k], cp, "header", true).value_or("");
        std::string claim = r.str(c[k], cp, "claim", true).value_or("");
        if (!header.empty() && !isHeaderName(header))
          r.error(c[k]["header"], cp + ".header", "\"" + header + "\" is not a header name");
        rule.output_claim_to_headers.emplace_back(header, claim);
      }
    rule.timeout_ms = r.duration(j, jp, "timeout", 1);
    out->jwt_rules.push_back(std::move(rule));
  }
}

}  // namespace meshnode::istio
