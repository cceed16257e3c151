#include "agent/source/kube_objects.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace meshnode::agent::source {
namespace {

using Json = nlohmann::json;

std::string stringAt(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Error invalid(const std::string& source, const std::string& field, const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig, source + ": " + field + ": " + what);
}

bool ready(const Json& endpoint) {
  const Json& conditions = endpoint.value("conditions", Json::object());
  // An absent condition means ready, as the API documents.
  if (!conditions.is_object() || !conditions.contains("ready")) return true;
  const Json& r = conditions["ready"];
  return !r.is_boolean() || r.get<bool>();
}

}  // namespace

const std::vector<KubeCollection>& kubeCollections() {
  static const std::vector<KubeCollection> kCollections = [] {
    std::vector<KubeCollection> out;
    auto add = [&](const char* kind, const std::string& group, const char* plural) {
      std::string version = group + "/v1";
      std::string path = (group == "v1" ? "/api/v1/" : "/apis/" + version + "/") + plural;
      out.push_back({kind, group == "v1" ? "v1" : version, path});
    };
    for (auto [kind, plural] : {std::pair{"ServiceEntry", "serviceentries"},
                                {"WorkloadEntry", "workloadentries"},
                                {"WorkloadGroup", "workloadgroups"},
                                {"VirtualService", "virtualservices"},
                                {"DestinationRule", "destinationrules"},
                                {"Sidecar", "sidecars"}})
      add(kind, "networking.istio.io", plural);
    for (auto [kind, plural] : {std::pair{"PeerAuthentication", "peerauthentications"},
                                {"AuthorizationPolicy", "authorizationpolicies"},
                                {"RequestAuthentication", "requestauthentications"}})
      add(kind, "security.istio.io", plural);
    add(kServiceKind, "v1", "services");
    add(kEndpointSliceKind, "discovery.k8s.io", "endpointslices");
    return out;
  }();
  return kCollections;
}

std::string kubeSourceName(const std::string& kind, const std::string& name_space,
                           const std::string& name) {
  return "kubernetes:" + kind + "/" + name_space + "/" + name;
}

std::string objectKey(const Json& object) {
  const Json& md = object.is_object() ? object.value("metadata", Json::object()) : Json();
  std::string ns = stringAt(md, "namespace"), name = stringAt(md, "name");
  return ns.empty() || name.empty() ? "" : ns + "/" + name;
}

Json istioDocument(const Json& object, const KubeCollection& collection) {
  Json doc = Json::object();
  doc["apiVersion"] = collection.api_version;
  doc["kind"] = collection.kind;
  Json md = Json::object();
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object()) {
    const Json& in = object["metadata"];
    for (const char* key : {"name", "namespace", "labels"})
      if (in.contains(key)) md[key] = in[key];
  }
  doc["metadata"] = std::move(md);
  if (object.is_object() && object.contains("spec")) doc["spec"] = object["spec"];
  return doc;
}

Json storedForm(const Json& object, const KubeCollection& collection) {
  Json doc = istioDocument(object, collection);
  if (collection.kind == kEndpointSliceKind && object.is_object())
    for (const char* key : {"addressType", "endpoints", "ports"})
      if (object.contains(key)) doc[key] = object[key];
  return doc;
}

std::string inferProtocol(const std::string& port_protocol, const std::string& app_protocol,
                          const std::string& name) {
  if (upper(port_protocol) == "UDP") return "UDP";
  std::string named = name;
  if (!app_protocol.empty()) {
    if (app_protocol == "kubernetes.io/h2c") return "HTTP2";
    if (app_protocol == "kubernetes.io/ws") return "HTTP";
    if (app_protocol == "kubernetes.io/wss") return "HTTPS";
    named = app_protocol;
  }
  std::string prefix = upper(named.substr(0, named.find('-')));
  static const std::set<std::string> kKnown = {"HTTP", "HTTPS", "HTTP2", "GRPC", "TCP",
                                               "TLS",  "MONGO", "MYSQL", "REDIS"};
  return kKnown.count(prefix) ? prefix : "";
}

namespace {

Result<Json> serviceEntryFrom(const Json& service, const std::vector<const Json*>& slices,
                              const std::string& domain_suffix) {
  const Json md = service.value("metadata", Json::object());
  std::string name = stringAt(md, "name"), ns = stringAt(md, "namespace");
  std::string source =
      kubeSourceName(kServiceKind, ns.empty() ? "?" : ns, name.empty() ? "?" : name);
  if (name.empty()) return invalid(source, "metadata.name", "is required");
  if (ns.empty()) return invalid(source, "metadata.namespace", "is required");
  if (!service.contains("spec") || !service["spec"].is_object())
    return invalid(source, "spec", "is required and must be an object");
  const Json& spec = service["spec"];

  Json se = Json::object();
  se["apiVersion"] = "networking.istio.io/v1";
  se["kind"] = "ServiceEntry";
  se["metadata"] = {{"name", name}, {"namespace", ns}};
  if (md.contains("labels")) se["metadata"]["labels"] = md["labels"];
  Json out = Json::object();
  out["hosts"] = Json::array({name + "." + ns + ".svc." + domain_suffix});

  Json selector = spec.value("selector", Json::object());
  if (!selector.is_object()) return invalid(source, "spec.selector", "must be a map");

  if (stringAt(spec, "type") == "ExternalName") {
    std::string external = stringAt(spec, "externalName");
    if (external.empty()) return invalid(source, "spec.externalName", "is required");
    out["location"] = "MESH_EXTERNAL";
    out["resolution"] = "DNS";
    out["endpoints"] = Json::array({{{"address", external}}});
  } else {
    out["location"] = "MESH_INTERNAL";
    out["resolution"] = "STATIC";
    Json addresses = Json::array();
    Json ips = spec.value("clusterIPs", Json::array());
    if (!ips.is_array() || ips.empty()) ips = Json::array({spec.value("clusterIP", Json())});
    for (const Json& ip : ips)
      if (ip.is_string() && !ip.get<std::string>().empty() && ip.get<std::string>() != "None")
        addresses.push_back(ip);
    if (!addresses.empty()) out["addresses"] = std::move(addresses);
  }

  // Service port name -> ServiceEntry port name (which must not be empty).
  std::vector<std::pair<std::string, std::string>> port_names;
  Json ports = Json::array();
  const Json& spec_ports = spec.value("ports", Json::array());
  if (!spec_ports.is_array()) return invalid(source, "spec.ports", "must be a list");
  for (size_t i = 0; i < spec_ports.size(); ++i) {
    const Json& p = spec_ports[i];
    std::string field = "spec.ports[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("port") || !p["port"].is_number_integer())
      return invalid(source, field + ".port", "is required and must be an integer");
    std::string protocol = stringAt(p, "protocol");
    // The proxy carries TCP only; Istio does not route UDP or SCTP either.
    if (!protocol.empty() && upper(protocol) != "TCP") continue;
    int number = p["port"].get<int>();
    std::string port_name = stringAt(p, "name");
    Json port = {{"number", number},
                 {"name", port_name.empty() ? "port-" + std::to_string(number) : port_name}};
    std::string inferred = inferProtocol(protocol, stringAt(p, "appProtocol"), port_name);
    if (!inferred.empty()) port["protocol"] = inferred;
    if (p.contains("targetPort") && p["targetPort"].is_number_integer())
      port["targetPort"] = p["targetPort"];
    port_names.emplace_back(port_name, port["name"].get<std::string>());
    ports.push_back(std::move(port));
  }
  // A Service with no TCP port (or a headless one without ports) has nothing to route to.
  if (ports.empty()) return Json();
  out["ports"] = std::move(ports);

  if (out["resolution"] == "STATIC") {
    Json endpoints = Json::array();
    std::set<std::string> seen;
    for (const Json* slice : slices) {
      std::string type = stringAt(*slice, "addressType");
      if (type != "IPv4" && type != "IPv6") continue;
      Json slice_ports = Json::object();
      for (const Json& sp : slice->value("ports", Json::array())) {
        if (!sp.is_object() || !sp.contains("port") || !sp["port"].is_number_integer()) continue;
        if (!stringAt(sp, "protocol").empty() && upper(stringAt(sp, "protocol")) != "TCP") continue;
        std::string sp_name = stringAt(sp, "name");
        for (const auto& [svc_name, se_name] : port_names)
          if (svc_name == sp_name) slice_ports[se_name] = sp["port"];
      }
      if (slice_ports.empty()) continue;
      for (const Json& ep : slice->value("endpoints", Json::array())) {
        if (!ep.is_object() || !ready(ep)) continue;
        for (const Json& address : ep.value("addresses", Json::array())) {
          if (!address.is_string() || !seen.insert(address.get<std::string>()).second) continue;
          Json e = {{"address", address}, {"ports", slice_ports}};
          if (!selector.empty()) e["labels"] = selector;
          endpoints.push_back(std::move(e));
        }
      }
    }
    if (!endpoints.empty()) {
      out["endpoints"] = std::move(endpoints);
    } else if (!selector.empty()) {
      out["workloadSelector"] = {{"labels", selector}};
    } else {
      // No selector and nothing ready: no endpoint to route to, like a Service scaled to zero.
      return Json();
    }
  }
  se["spec"] = std::move(out);
  return se;
}

}  // namespace

Result<Json> serviceEntryFor(const Json& service, const std::vector<const Json*>& slices,
                             const std::string& domain_suffix) {
  // nlohmann-json reports a value of an unexpected type by throwing; it stops here.
  try {
    return serviceEntryFrom(service, slices, domain_suffix);
  } catch (const Json::exception& e) {
    return invalid(std::string("kubernetes:") + kServiceKind + "/" + objectKey(service), "object",
                   e.what());
  }
}

}  // namespace meshnode::agent::source
