#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/compiler/compiler.h"

// The services this node can see, as istiod's push context would present them to one sidecar:
// service entries after exportTo and Sidecar egress scoping, with their endpoints.
namespace meshnode::compiler {

enum class PortKind { kHttp, kTcp, kTls, kAuto };
PortKind portKind(const std::string& protocol);
// Istio's port naming convention ("http-web", "grpc", "tcp-db") for a port without a protocol.
std::string protocolFromName(const std::string& name);

struct Instance {
  std::string address;  // IP, or a host name still to be resolved (DNS resolution)
  uint32_t port = 0;
  istio::Labels labels;
  uint32_t weight = 1;
  std::string locality, network;
};

struct Service {
  std::string hostname;
  std::string ns;
  std::vector<std::string> addresses;  // VIPs / CIDRs from spec.addresses
  std::vector<istio::ServicePort> ports;
  const istio::ServiceEntry* entry = nullptr;
  // Per service port number.
  std::map<uint32_t, std::vector<Instance>> instances;
  bool original_dst = false;  // resolution NONE without endpoints
};

struct Scope {
  const istio::Sidecar* sidecar = nullptr;
  bool registry_only = false;
};

class Registry {
 public:
  Registry(const CompileInput& input, const istio::Labels& node_labels,
           const std::vector<istio::WorkloadEntry>& extra_entries,
           std::vector<std::string>* warnings);

  const std::vector<Service>& services() const { return services_; }
  const Service* find(const std::string& hostname) const;
  const Scope& scope() const { return scope_; }
  // Whether a resource of namespace `ns` with this exportTo is visible to the node.
  bool exported(const std::vector<std::string>& export_to, const std::string& ns) const;
  // Whether the node's Sidecar lets it see `host` of namespace `ns` on `port` (0: any port). An
  // egress listener with a port owns that port; the one without a port covers the others.
  bool inEgress(const std::string& ns, const std::string& host, uint32_t port = 0) const;
  // "reviews" in "default" -> "reviews.default.svc.cluster.local"; FQDNs and wildcards stay.
  std::string qualify(const std::string& host, const std::string& ns) const;

 private:
  const CompileInput& input_;
  Scope scope_;
  std::vector<Service> services_;
  std::map<std::string, size_t> by_host_;  // index into services_
};

bool isIpAddress(const std::string& text);
bool labelsMatch(const istio::Labels& selector, const istio::Labels& labels);
// Istio's wildcard host matching: "*.example.com" covers "a.example.com".
bool hostMatches(const std::string& pattern, const std::string& host);

}  // namespace meshnode::compiler
