#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/compiler/registry.h"

// Clusters from services and DestinationRules: one per service port and one per subset,
// named as istiod names them ("outbound|80|v1|reviews.default.svc.cluster.local").
namespace meshnode::compiler {

std::string outboundClusterName(uint32_t port, const std::string& subset, const std::string& host);

class ClusterBuilder {
 public:
  ClusterBuilder(const CompileInput& input, const Registry& registry,
                 std::vector<std::string>* warnings)
      : input_(input), registry_(registry), warnings_(warnings) {}

  // The DestinationRule that applies to `service` for this node, as istiod picks it: the
  // node's namespace first, then the service's, then the root namespace; an exact host before
  // a wildcard.
  const istio::DestinationRule* ruleFor(const Service& service) const;
  void addServiceClusters(const Service& service, nlohmann::json* clusters) const;

 private:
  nlohmann::json cluster(const Service& service, const istio::ServicePort& port,
                         const istio::Subset* subset, const istio::DestinationRule* rule) const;

  const CompileInput& input_;
  const Registry& registry_;
  std::vector<std::string>* warnings_;
};

}  // namespace meshnode::compiler
