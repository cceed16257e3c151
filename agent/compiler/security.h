#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/compiler/compiler.h"

// The snapshot's `security` object for this node (docs/snapshot.md, "Security"), chosen from the
// security.istio.io resources as istiod chooses them for a sidecar: mesh-wide policies in the
// root namespace, namespace-wide ones in the node's namespace, and those whose selector matches
// the node's labels.
namespace meshnode::compiler {

// Fails when the node would have to serve STRICT mTLS without an identity: the proxy refuses
// such a snapshot, and serving plaintext instead would silently drop the policy.
Result<nlohmann::json> compileSecurity(const CompileInput& input, const istio::Labels& node_labels,
                                       std::vector<std::string>* warnings);

}  // namespace meshnode::compiler
