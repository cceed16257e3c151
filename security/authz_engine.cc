#include "security/authz_engine.h"

#include <charconv>
#include <cstring>

#include <arpa/inet.h>

#include "security/string_pattern.h"

namespace meshnode::security {

namespace {

struct Cidr {
  bool v6 = false;
  unsigned char bytes[16] = {};
  int prefix = 0;

  bool contains(const Cidr& ip) const {
    if (ip.v6 != v6) return false;
    int full = prefix / 8;
    if (std::memcmp(bytes, ip.bytes, static_cast<size_t>(full)) != 0) return false;
    int rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (bytes[full] & mask) == (ip.bytes[full] & mask);
  }
};

std::optional<Cidr> parseIp(std::string_view text) {
  Cidr out;
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out.bytes) == 1) {
    out.prefix = 32;
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes) == 1) {
    out.v6 = true;
    out.prefix = 128;
    // An IPv4-mapped address is the IPv4 peer it stands for.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.bytes, kMapped, 12) == 0) {
      Cidr v4;
      std::memcpy(v4.bytes, out.bytes + 12, 4);
      v4.prefix = 32;
      return v4;
    }
    return out;
  }
  return std::nullopt;
}

std::optional<Cidr> parseCidr(std::string_view text) {
  size_t slash = text.find('/');
  auto ip = parseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  if (slash == std::string_view::npos) return ip;
  std::string_view len = text.substr(slash + 1);
  int prefix = -1;
  auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (ec != std::errc() || ptr != len.data() + len.size() || prefix < 0 ||
      prefix > (ip->v6 ? 128 : 32)) {
    return std::nullopt;
  }
  ip->prefix = prefix;
  return ip;
}

enum class Field {
  kPrincipal,
  kRequestPrincipal,
  kNamespace,
  kSourceIp,
  kRemoteIp,
  kHost,
  kPort,
  kMethod,
  kPath,
  kHeader,
  kClaim,
  kAudiences,
  kPresenter,
  kDestinationIp,
  kSni,
};

bool httpOnly(Field f) {
  switch (f) {
    case Field::kRequestPrincipal:
    case Field::kHost:
    case Field::kMethod:
    case Field::kPath:
    case Field::kHeader:
    case Field::kClaim:
    case Field::kAudiences:
    case Field::kPresenter:
      return true;
    default:
      return false;
  }
}

bool isIpField(Field f) {
  return f == Field::kSourceIp || f == Field::kRemoteIp || f == Field::kDestinationIp;
}

// One field of a source, operation or condition with its values and not-values.
struct Matcher {
  Field field = Field::kPrincipal;
  std::string header;                   // kHeader, lower case
  std::vector<std::string> claim_path;  // kClaim
  std::vector<StringPattern> values, not_values;
  std::vector<Cidr> cidrs, not_cidrs;
  std::vector<uint16_t> ports, not_ports;
  bool has_values = false;
  bool has_not_values = false;
};

using Conjunction = std::vector<Matcher>;

struct Rule {
  std::vector<Conjunction> from;
  std::vector<Conjunction> to;
  Conjunction when;
  bool http_only = false;
};

struct Policy {
  std::string id;  // ns/name
  AuthzAction action = AuthzAction::kAllow;
  std::vector<Rule> rules;
};

std::string_view hostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(':') == colon) return host.substr(0, colon);
  return host;
}

std::vector<std::string_view> requestValues(const Matcher& m, const AuthzRequest& r,
                                            std::vector<std::string>* storage) {
  switch (m.field) {
    case Field::kPrincipal:
      return {r.source_principal};
    case Field::kRequestPrincipal:
      return {r.request_principal};
    case Field::kNamespace:
      return {r.source_namespace};
    case Field::kHost: {
      std::string_view bare = hostWithoutPort(r.host);
      if (bare.size() == r.host.size()) return {r.host};
      return {r.host, bare};
    }
    case Field::kMethod:
      return {r.method};
    case Field::kPath:
      return {r.path};
    case Field::kSni:
      return {r.sni};
    case Field::kHeader: {
      // Envoy matches a repeated header as its values joined with ','.
      bool found = false;
      std::string joined;
      for (const auto& [name, value] : r.headers) {
        if (name != m.header) continue;
        if (found) joined += ',';
        joined += value;
        found = true;
      }
      if (!found) return {};
      storage->push_back(std::move(joined));
      break;
    }
    case Field::kClaim:
      *storage = r.claims.strings(m.claim_path);
      break;
    case Field::kAudiences:
      *storage = r.claims.audiences();
      break;
    case Field::kPresenter:
      storage->push_back(r.claims.presenter());
      break;
    default:
      return {};
  }
  return {storage->begin(), storage->end()};
}

bool anyMatches(const std::vector<StringPattern>& patterns,
                const std::vector<std::string_view>& values) {
  for (std::string_view v : values) {
    for (const StringPattern& p : patterns) {
      if (p.matches(v)) return true;
    }
  }
  return false;
}

bool anyContains(const std::vector<Cidr>& cidrs, const std::optional<Cidr>& ip) {
  if (!ip) return false;
  for (const Cidr& c : cidrs) {
    if (c.contains(*ip)) return true;
  }
  return false;
}

bool matches(const Matcher& m, const AuthzRequest& r) {
  if (isIpField(m.field)) {
    // Without X-Forwarded-For the original client is the downstream peer itself.
    const std::string& remote = r.remote_ip.empty() ? r.source_ip : r.remote_ip;
    const std::string& text = m.field == Field::kSourceIp   ? r.source_ip
                              : m.field == Field::kRemoteIp ? remote
                                                            : r.destination_ip;
    auto ip = parseIp(text);
    if (m.has_values && !anyContains(m.cidrs, ip)) return false;
    return !(m.has_not_values && anyContains(m.not_cidrs, ip));
  }
  if (m.field == Field::kPort) {
    auto in = [&](const std::vector<uint16_t>& ports) {
      for (uint16_t p : ports) {
        if (p == r.destination_port) return true;
      }
      return false;
    };
    if (m.has_values && !in(m.ports)) return false;
    return !(m.has_not_values && in(m.not_ports));
  }
  std::vector<std::string> storage;
  std::vector<std::string_view> values = requestValues(m, r, &storage);
  if (m.has_values && !anyMatches(m.values, values)) return false;
  return !(m.has_not_values && anyMatches(m.not_values, values));
}

bool allMatch(const Conjunction& c, const AuthzRequest& r, bool skip_http) {
  for (const Matcher& m : c) {
    if (skip_http && httpOnly(m.field)) continue;
    if (!matches(m, r)) return false;
  }
  return true;
}

bool anyConjunction(const std::vector<Conjunction>& list, const AuthzRequest& r, bool skip_http) {
  if (list.empty()) return true;
  for (const Conjunction& c : list) {
    if (allMatch(c, r, skip_http)) return true;
  }
  return false;
}

bool ruleMatches(const Rule& rule, AuthzAction action, const AuthzRequest& r) {
  bool skip_http = false;
  if (!r.is_http && rule.http_only) {
    if (action == AuthzAction::kAllow) return false;
    skip_http = true;
  }
  return anyConjunction(rule.from, r, skip_http) && anyConjunction(rule.to, r, skip_http) &&
         allMatch(rule.when, r, skip_http);
}

bool policyMatches(const Policy& p, const AuthzRequest& r) {
  for (const Rule& rule : p.rules) {
    if (ruleMatches(rule, p.action, r)) return true;
  }
  return false;
}

// Compilation: each field becomes a Matcher; errors carry the policy and field path.
class Compiler {
 public:
  explicit Compiler(std::string where) : where_(std::move(where)) {}

  Error error(const std::string& path, const std::string& why) const {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig, where_ + ": " + path + ": " + why);
  }

  Status add(Conjunction* out, Field field, const std::string& path, const char* name,
             const char* not_name, const std::vector<std::string>& values,
             const std::vector<std::string>& not_values, bool* http_only, Matcher base = {}) {
    if (values.empty() && not_values.empty()) return {};
    Matcher m = std::move(base);
    m.field = field;
    m.has_values = !values.empty();
    m.has_not_values = !not_values.empty();
    if (Status s = fill(&m, path + "." + name, values, false); !s) return s;
    if (Status s = fill(&m, path + "." + not_name, not_values, true); !s) return s;
    if (httpOnly(field)) *http_only = true;
    out->push_back(std::move(m));
    return {};
  }

 private:
  Status fill(Matcher* m, const std::string& path, const std::vector<std::string>& values,
              bool negated) {
    for (size_t i = 0; i < values.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      const std::string& v = values[i];
      if (isIpField(m->field)) {
        auto cidr = parseCidr(v);
        if (!cidr) return error(at, "invalid IP address or CIDR '" + v + "'");
        (negated ? m->not_cidrs : m->cidrs).push_back(*cidr);
      } else if (m->field == Field::kPort) {
        unsigned port = 0;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
        if (ec != std::errc() || ptr != v.data() + v.size() || port == 0 || port > 65535) {
          return error(at, "invalid port '" + v + "'");
        }
        (negated ? m->not_ports : m->ports).push_back(static_cast<uint16_t>(port));
      } else {
        auto p = StringPattern::parse(v, m->field == Field::kHost, m->field == Field::kPath);
        if (!p) return error(at, p.error().detail);
        (negated ? m->not_values : m->values).push_back(std::move(p).value());
      }
    }
    return {};
  }

  std::string where_;
};

// "request.auth.claims[a][b]" -> {"a", "b"}; "request.headers[x]" -> {"x"}.
std::optional<std::vector<std::string>> bracketArgs(std::string_view key, std::string_view prefix) {
  if (key.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view rest = key.substr(prefix.size());
  std::vector<std::string> out;
  while (!rest.empty()) {
    if (rest.front() != '[') return std::nullopt;
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    out.emplace_back(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Status compileCondition(Compiler& c, const AuthzCondition& cond, const std::string& path,
                        Conjunction* out, bool* http_only) {
  if (cond.values.empty() && cond.not_values.empty()) {
    return c.error(path, "condition '" + cond.key + "' needs values or notValues");
  }
  struct Simple {
    const char* key;
    Field field;
  };
  static constexpr Simple kSimple[] = {
      {"source.ip", Field::kSourceIp},
      {"remote.ip", Field::kRemoteIp},
      {"source.namespace", Field::kNamespace},
      {"source.principal", Field::kPrincipal},
      {"request.auth.principal", Field::kRequestPrincipal},
      {"request.auth.audiences", Field::kAudiences},
      {"request.auth.presenter", Field::kPresenter},
      {"destination.ip", Field::kDestinationIp},
      {"destination.port", Field::kPort},
      {"connection.sni", Field::kSni},
  };
  Matcher base;
  std::optional<Field> field;
  for (const Simple& s : kSimple) {
    if (cond.key == s.key) field = s.field;
  }
  if (!field) {
    if (auto args = bracketArgs(cond.key, "request.headers"); args && args->size() == 1) {
      field = Field::kHeader;
      base.header = (*args)[0];
      for (char& ch : base.header) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
    } else if (auto claim = bracketArgs(cond.key, "request.auth.claims")) {
      field = Field::kClaim;
      base.claim_path = std::move(*claim);
    }
  }
  if (!field) {
    return c.error(path + ".key", "unknown or unsupported condition key '" + cond.key + "'");
  }
  return c.add(out, *field, path, "values", "notValues", cond.values, cond.not_values, http_only,
               std::move(base));
}

Result<Policy> compilePolicy(const AuthzPolicy& in) {
  Policy out;
  out.id = in.ns + "/" + in.name;
  out.action = in.action;
  Compiler c("policy " + out.id + (in.origin.empty() ? "" : " (" + in.origin + ")"));
  if (in.action == AuthzAction::kCustom) {
    return c.error("action", "CUSTOM (external authorization) is not supported");
  }
  for (size_t ri = 0; ri < in.rules.size(); ++ri) {
    const AuthzRule& rule = in.rules[ri];
    Rule compiled;
    std::string rp = "rules[" + std::to_string(ri) + "]";
    bool* h = &compiled.http_only;
    for (size_t i = 0; i < rule.from.size(); ++i) {
      const AuthzSource& s = rule.from[i];
      std::string p = rp + ".from[" + std::to_string(i) + "].source";
      Conjunction conj;
      for (Status st : {
               c.add(&conj, Field::kPrincipal, p, "principals", "notPrincipals", s.principals,
                     s.not_principals, h),
               c.add(&conj, Field::kRequestPrincipal, p, "requestPrincipals",
                     "notRequestPrincipals", s.request_principals, s.not_request_principals, h),
               c.add(&conj, Field::kNamespace, p, "namespaces", "notNamespaces", s.namespaces,
                     s.not_namespaces, h),
               c.add(&conj, Field::kSourceIp, p, "ipBlocks", "notIpBlocks", s.ip_blocks,
                     s.not_ip_blocks, h),
               c.add(&conj, Field::kRemoteIp, p, "remoteIpBlocks", "notRemoteIpBlocks",
                     s.remote_ip_blocks, s.not_remote_ip_blocks, h),
           }) {
        if (!st) return st.error();
      }
      compiled.from.push_back(std::move(conj));
    }
    for (size_t i = 0; i < rule.to.size(); ++i) {
      const AuthzOperation& o = rule.to[i];
      std::string p = rp + ".to[" + std::to_string(i) + "].operation";
      Conjunction conj;
      for (Status st : {
               c.add(&conj, Field::kHost, p, "hosts", "notHosts", o.hosts, o.not_hosts, h),
               c.add(&conj, Field::kPort, p, "ports", "notPorts", o.ports, o.not_ports, h),
               c.add(&conj, Field::kMethod, p, "methods", "notMethods", o.methods, o.not_methods,
                     h),
               c.add(&conj, Field::kPath, p, "paths", "notPaths", o.paths, o.not_paths, h),
           }) {
        if (!st) return st.error();
      }
      compiled.to.push_back(std::move(conj));
    }
    for (size_t i = 0; i < rule.when.size(); ++i) {
      Status st = compileCondition(c, rule.when[i], rp + ".when[" + std::to_string(i) + "]",
                                   &compiled.when, h);
      if (!st) return st.error();
    }
    out.rules.push_back(std::move(compiled));
  }
  return out;
}

}  // namespace

struct AuthzEngine::Compiled {
  std::vector<Policy> deny, allow, audit;
};

Result<AuthzEngine> AuthzEngine::compile(const std::vector<AuthzPolicy>& policies) {
  auto compiled = std::make_shared<Compiled>();
  for (const AuthzPolicy& p : policies) {
    auto policy = compilePolicy(p);
    if (!policy) return policy.error();
    switch (p.action) {
      case AuthzAction::kDeny:
        compiled->deny.push_back(std::move(policy).value());
        break;
      case AuthzAction::kAllow:
        compiled->allow.push_back(std::move(policy).value());
        break;
      case AuthzAction::kAudit:
        compiled->audit.push_back(std::move(policy).value());
        break;
      case AuthzAction::kCustom:
        break;
    }
  }
  AuthzEngine engine;
  engine.compiled_ = std::move(compiled);
  return engine;
}

AuthzDecision AuthzEngine::evaluate(const AuthzRequest& request) const {
  AuthzDecision d;
  if (!compiled_) return d;
  for (const Policy& p : compiled_->audit) {
    if (policyMatches(p, request)) {
      d.audit = true;
      d.audit_policy = p.id;
      break;
    }
  }
  for (const Policy& p : compiled_->deny) {
    if (policyMatches(p, request)) {
      d.allowed = false;
      d.policy = p.id;
      return d;
    }
  }
  if (compiled_->allow.empty()) return d;
  for (const Policy& p : compiled_->allow) {
    if (policyMatches(p, request)) {
      d.policy = p.id;
      return d;
    }
  }
  d.allowed = false;
  return d;
}

std::string AuthzDecision::describe() const {
  std::string out;
  if (allowed) {
    out = policy.empty() ? "allowed: no ALLOW policy applies" : "allowed by " + policy;
  } else {
    out = policy.empty() ? "denied: no ALLOW policy matched" : "denied by " + policy;
  }
  if (audit) out += " (audited by " + audit_policy + ")";
  return out;
}

}  // namespace meshnode::security
