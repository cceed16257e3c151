#include "agent/compiler/security.h"

#include <algorithm>
#include <set>

#include "agent/compiler/inbound.h"
#include "security/jwks.h"

namespace meshnode::compiler {
namespace {

using nlohmann::json;

// What istiod hands a sidecar for a jwksUri it could not fetch: keys that verify nothing, so a
// token of that issuer is refused rather than trusted.
constexpr const char* kNoKeys = R"({"keys":[]})";

bool selects(const istio::Labels& selector, const istio::Labels& labels) {
  return std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
    auto it = labels.find(kv.first);
    return it != labels.end() && it->second == kv.second;
  });
}

std::string origin(const istio::Meta& meta) {
  return meta.file + ":" + std::to_string(meta.line);
}

// AuthorizationPolicy and RequestAuthentication: the root namespace's apply mesh-wide, the
// node's namespace's to the node; either narrowed by a selector. targetRef(s) never reach a host.
template <typename T>
std::vector<const T*> applicable(const std::vector<T>& all, const CompileInput& input,
                                 const istio::Labels& labels) {
  std::vector<const T*> out;
  for (const auto& r : all) {
    if (r.has_target_refs) continue;
    if (r.meta.ns != input.options.root_namespace && r.meta.ns != input.node.ns) continue;
    if (r.selector && !selects(*r.selector, labels)) continue;
    out.push_back(&r);
  }
  // Root namespace first, then by name: a stable order for the snapshot's digest.
  std::sort(out.begin(), out.end(), [&](const T* a, const T* b) {
    bool ar = a->meta.ns == input.options.root_namespace;
    bool br = b->meta.ns == input.options.root_namespace;
    if (ar != br) return ar;
    return a->meta.id() < b->meta.id();
  });
  return out;
}

// Of several PeerAuthentications at one level Istio applies the oldest; a file has no creation
// time, so the first by name wins, and the operator is told.
const istio::PeerAuthentication* pickOne(std::vector<const istio::PeerAuthentication*> found,
                                         const char* level, std::vector<std::string>* warnings) {
  if (found.empty()) return nullptr;
  std::sort(found.begin(), found.end(),
            [](const auto* a, const auto* b) { return a->meta.name < b->meta.name; });
  for (size_t i = 1; i < found.size(); ++i)
    warnings->push_back("PeerAuthentication " + found[i]->meta.id() + " (" +
                        origin(found[i]->meta) + ") is ignored: " + found[0]->meta.id() +
                        " also applies at the " + level +
                        " level and comes first by name (Istio keeps the oldest)");
  return found[0];
}

struct PeerModes {
  istio::MtlsMode mode = istio::MtlsMode::kPermissive;
  std::map<uint32_t, istio::MtlsMode> ports;
  std::string strict_from;  // the policy that asks for STRICT, for the error without identity
};

PeerModes peerModes(const CompileInput& input, const istio::Labels& labels,
                    std::vector<std::string>* warnings) {
  const std::string& root = input.options.root_namespace;
  std::vector<const istio::PeerAuthentication*> mesh, ns, workload;
  for (const auto& pa : input.resources->peer_authentications) {
    if (pa.meta.ns == root && pa.selector) {
      if (input.node.ns == root && selects(*pa.selector, labels))
        workload.push_back(&pa);
      else if (selects(*pa.selector, labels))
        warnings->push_back("PeerAuthentication " + pa.meta.id() + " (" + origin(pa.meta) +
                            ") is ignored: a selector in the root namespace applies to no "
                            "workload of another namespace, as in Istio");
      continue;
    }
    if (pa.meta.ns == root)
      mesh.push_back(&pa);
    else if (pa.meta.ns == input.node.ns && !pa.selector)
      ns.push_back(&pa);
    else if (pa.meta.ns == input.node.ns && selects(*pa.selector, labels))
      workload.push_back(&pa);
  }
  PeerModes out;
  const auto* workload_pa = pickOne(workload, "workload", warnings);
  // Each level overrides its parent unless it is UNSET; the mesh default is PERMISSIVE.
  for (const auto* pa :
       {pickOne(mesh, "mesh", warnings), pickOne(ns, "namespace", warnings), workload_pa}) {
    if (!pa || pa->mode == istio::MtlsMode::kUnset) continue;
    out.mode = pa->mode;
    out.strict_from = pa->mode == istio::MtlsMode::kStrict ? origin(pa->meta) : "";
  }
  // portLevelMtls counts only with a selector (the loader warned otherwise); UNSET takes the
  // workload's mode.
  if (workload_pa)
    for (const auto& [port, mode] : workload_pa->port_level) {
      out.ports[port] = mode == istio::MtlsMode::kUnset ? out.mode : mode;
      if (out.ports[port] == istio::MtlsMode::kStrict && out.strict_from.empty())
        out.strict_from = origin(workload_pa->meta);
    }
  return out;
}

void putList(json* o, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) (*o)[key] = values;
}

json policyJson(const istio::AuthorizationPolicy& p) {
  static const char* kActions[] = {"ALLOW", "DENY", "AUDIT", "CUSTOM"};
  json rules = json::array();
  for (const auto& rule : p.rules) {
    json r = json::object();
    if (!rule.from.empty()) {
      r["from"] = json::array();
      for (const auto& s : rule.from) {
        json o = json::object();
        for (const auto& f : security::kAuthzSourceFields)
          putList(&o, f.snapshot, s.*f.member);
        r["from"].push_back(std::move(o));
      }
    }
    if (!rule.to.empty()) {
      r["to"] = json::array();
      for (const auto& op : rule.to) {
        json o = json::object();
        for (const auto& f : security::kAuthzOperationFields)
          putList(&o, f.snapshot, op.*f.member);
        r["to"].push_back(std::move(o));
      }
    }
    if (!rule.when.empty()) {
      r["when"] = json::array();
      for (const auto& c : rule.when) {
        json o = {{"key", c.key}};
        putList(&o, "values", c.values);
        putList(&o, "not_values", c.not_values);
        r["when"].push_back(std::move(o));
      }
    }
    rules.push_back(std::move(r));
  }
  return {{"namespace", p.meta.ns},
          {"name", p.meta.name},
          {"origin", origin(p.meta)},
          {"action", kActions[static_cast<int>(p.action)]},
          {"rules", std::move(rules)}};
}

json jwtRuleJson(const istio::RequestAuthentication& ra, const istio::JwtRule& rule,
                 const SecurityInput& security, std::vector<std::string>* warnings) {
  json o = {{"issuer", rule.issuer}};
  putList(&o, "audiences", rule.audiences);
  std::string subject =
      "RequestAuthentication " + ra.meta.id() + " (" + origin(ra.meta) + ") issuer " + rule.issuer;
  if (!rule.jwks.empty()) {
    o["jwks"] = rule.jwks;
  } else if (rule.jwks_uri.empty()) {
    o["jwks"] = kNoKeys;
    warnings->push_back(subject +
                        ": neither jwks nor jwksUri is given and OpenID discovery is not "
                        "supported; its tokens are refused");
  } else if (auto it = security.jwks_by_uri.find(rule.jwks_uri); it == security.jwks_by_uri.end()) {
    o["jwks"] = kNoKeys;
    warnings->push_back(subject + ": no keys fetched yet from " + rule.jwks_uri +
                        "; its tokens are refused until they are");
  } else if (auto keys = security::Jwks::parse(it->second, rule.jwks_uri); !keys) {
    o["jwks"] = kNoKeys;
    warnings->push_back(subject + ": the document from " + rule.jwks_uri + " is not usable (" +
                        keys.error().detail + "); its tokens are refused");
  } else {
    o["jwks"] = it->second;
  }
  // Naming any location replaces the defaults (Authorization: Bearer, access_token), as in
  // Istio; cookies alone leave no location the proxy looks in.
  bool located =
      !rule.from_headers.empty() || !rule.from_params.empty() || !rule.from_cookies.empty();
  if (!rule.from_headers.empty() || (located && rule.from_params.empty())) {
    o["from_headers"] = json::array();
    for (const auto& h : rule.from_headers) {
      json header = {{"name", h.name}};
      if (!h.prefix.empty()) header["prefix"] = h.prefix;
      o["from_headers"].push_back(std::move(header));
    }
  }
  putList(&o, "from_params", rule.from_params);
  if (rule.forward_original_token) o["forward_original_token"] = true;
  if (!rule.output_payload_to_header.empty())
    o["output_payload_to_header"] = rule.output_payload_to_header;
  if (!rule.output_claim_to_headers.empty()) {
    o["output_claim_to_headers"] = json::array();
    for (const auto& [header, claim] : rule.output_claim_to_headers)
      o["output_claim_to_headers"].push_back({{"header", header}, {"claim", claim}});
  }
  return o;
}

}  // namespace

Result<json> compileSecurity(const CompileInput& input, const istio::Labels& node_labels,
                             std::vector<std::string>* warnings) {
  json out = json::object();
  const SecurityInput& sec = input.security;
  bool identity = !sec.cert_chain.empty() && !sec.key.empty() && !sec.root_cert.empty();
  if (identity)
    out["identity"] = {
        {"cert_chain", sec.cert_chain}, {"key", sec.key}, {"root_cert", sec.root_cert}};

  PeerModes modes = peerModes(input, node_labels, warnings);
  if (!modes.strict_from.empty() && !identity)
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "PeerAuthentication at " + modes.strict_from +
                         " asks this host for STRICT mTLS, but the host has no mesh identity "
                         "(cert-chain.pem, key.pem, root-cert.pem)");
  json peer = {{"mode", security::toString(modes.mode)}};
  if (!modes.ports.empty()) {
    peer["port_modes"] = json::object();
    for (const auto& [port, mode] : modes.ports)
      peer["port_modes"][std::to_string(port)] = security::toString(mode);
  }
  out["peer_authentication"] = std::move(peer);
  out["path_normalization"] = input.options.path_normalization;

  json policies = json::array();
  for (const auto* p : applicable(input.resources->authorization_policies, input, node_labels))
    policies.push_back(policyJson(*p));
  if (!policies.empty()) out["authorization_policies"] = std::move(policies);

  json rules = json::array();
  for (const auto* ra : applicable(input.resources->request_authentications, input, node_labels))
    for (const auto& rule : ra->jwt_rules)
      rules.push_back(jwtRuleJson(*ra, rule, sec, warnings));
  if (!rules.empty()) out["jwt_rules"] = std::move(rules);
  return out;
}

std::vector<std::string> jwksUris(const istio::Resources& resources, const NodeIdentity& node,
                                  const CompileOptions& options) {
  CompileInput input;
  input.resources = &resources;
  input.node = node;
  input.options = options;
  // An unknown workload group fails the compile itself; here its labels are simply missing.
  auto resolved = resolveNode(input);
  istio::Labels labels = resolved ? resolved->labels : node.labels;
  std::set<std::string> uris;
  for (const auto* ra : applicable(resources.request_authentications, input, labels))
    for (const auto& rule : ra->jwt_rules)
      if (rule.jwks.empty() && !rule.jwks_uri.empty()) uris.insert(rule.jwks_uri);
  return {uris.begin(), uris.end()};
}

}  // namespace meshnode::compiler
