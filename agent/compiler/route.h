#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/compiler/registry.h"

// Outbound routes: VirtualService http, tls and tcp rules bound to the services they name, or
// istiod's default route when no VirtualService claims a service.
namespace meshnode::compiler {

class RouteBuilder {
 public:
  RouteBuilder(const CompileInput& input, const Registry& registry,
               const istio::Labels& node_labels, std::set<std::string>* referenced,
               std::vector<std::string>* warnings);

  const istio::VirtualService* virtualServiceFor(const std::string& hostname) const;
  // The virtual host of `service` in the route table of `port`.
  nlohmann::json virtualHost(const Service& service, const istio::ServicePort& port) const;
  // TCP/TLS routes of `service` on `port`, most specific first.
  void tcpRoutes(const Service& service, const istio::ServicePort& port, nlohmann::json* out) const;

 private:
  nlohmann::json httpRoute(const istio::VirtualService& vs, const istio::HttpRoute& route,
                           const istio::HttpMatch* match, size_t index, const Service& service,
                           uint32_t port) const;
  std::string destinationCluster(const istio::Destination& d, const std::string& ns,
                                 uint32_t listener_port, const std::string& context) const;
  bool applies(const std::vector<std::string>& gateways, const istio::Labels& source_labels,
               const std::string& source_namespace, uint32_t match_port, uint32_t port) const;

  const CompileInput& input_;
  const Registry& registry_;
  const istio::Labels& node_labels_;
  std::set<std::string>* referenced_;
  std::vector<std::string>* warnings_;
  std::map<std::string, const istio::VirtualService*> bound_;
};

// "mesh.yaml:12: VirtualService shop/reviews", the prefix of a warning about it.
std::string where(const istio::VirtualService& vs);

std::vector<std::string> virtualHostDomains(const Service& service, uint32_t port,
                                            const std::string& node_ns,
                                            const std::string& domain_suffix);

}  // namespace meshnode::compiler
