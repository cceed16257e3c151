#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace meshnode::agent::source {

// One collection the Kubernetes source lists and watches, across all namespaces.
struct KubeCollection {
  std::string kind;         // "VirtualService"
  std::string api_version;  // "networking.istio.io/v1"
  std::string path;         // "/apis/networking.istio.io/v1/virtualservices"
};

inline constexpr const char* kServiceKind = "Service";
inline constexpr const char* kEndpointSliceKind = "EndpointSlice";

// The Istio kinds the loader reads, the security.istio.io policies, core Services and
// discovery.k8s.io EndpointSlices.
const std::vector<KubeCollection>& kubeCollections();

// "kubernetes:VirtualService/shop/web": the source name an object's diagnostics carry.
std::string kubeSourceName(const std::string& kind, const std::string& name_space,
                           const std::string& name);

// "<namespace>/<name>" of an API object; empty when either is missing.
std::string objectKey(const nlohmann::json& object);

// The object as the Istio loader reads it: apiVersion and kind set (list items omit them),
// metadata reduced to name, namespace and labels, status dropped. What the server manages
// (managedFields, the last-applied annotation) would only bury the line a diagnostic names.
nlohmann::json istioDocument(const nlohmann::json& object, const KubeCollection& collection);

// What the source keeps of an object: istioDocument(), plus an EndpointSlice's addressType,
// endpoints and ports. Two versions that differ only in what the server manages are equal.
nlohmann::json storedForm(const nlohmann::json& object, const KubeCollection& collection);

// The protocol Istio infers for a Service port: UDP by the port's protocol, else appProtocol when
// set (including kubernetes.io/h2c, /ws, /wss), else the port name's prefix ("http-web" is
// HTTP). Empty when nothing names one: the proxy detects the protocol.
std::string inferProtocol(const std::string& port_protocol, const std::string& app_protocol,
                          const std::string& name);

// A Service and the EndpointSlices labelled with its name (kubernetes.io/service-name) as
// istiod's Kubernetes registry sees them, shaped as a ServiceEntry so the compiler needs nothing
// new: host "<name>.<namespace>.svc.<domain_suffix>", the cluster IPs as addresses, the TCP
// ports with their inferred protocol, MESH_INTERNAL and STATIC, one endpoint per ready address
// with the slice's port for each Service port name and the Service's selector as labels.
// Without a ready endpoint the selector picks WorkloadEntries instead (as istiod lets a
// Service select them); an ExternalName Service is a MESH_EXTERNAL DNS entry for that name.
// Null when there is nothing to route to (no TCP port; no selector and no ready endpoint); an
// error naming the field when the object is malformed.
Result<nlohmann::json> serviceEntryFor(const nlohmann::json& service,
                                       const std::vector<const nlohmann::json*>& slices,
                                       const std::string& domain_suffix);

}  // namespace meshnode::agent::source
