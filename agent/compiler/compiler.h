#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/istio/resource.h"
#include "common/result.h"

namespace meshnode::compiler {

// Who this host is in the mesh; what `istioctl proxy-config` would call the proxy's node.
struct NodeIdentity {
  std::string ns = "default";
  istio::Labels labels;
  std::string ip;              // the host's mesh address (numeric)
  std::string workload_group;  // optional; its labels and ports are the host's too
};

struct CompileOptions {
  std::string domain_suffix = "cluster.local";
  std::string root_namespace = "istio-system";  // where mesh-wide Sidecars and rules live
  bool registry_only = false;  // mesh-wide outboundTrafficPolicy; a Sidecar overrides it
  // MeshConfig's pathNormalization: NONE, BASE (Istio's default), MERGE_SLASHES or
  // DECODE_AND_MERGE_SLASHES; written to the snapshot as `security.path_normalization`.
  std::string path_normalization = "BASE";
};

// Addresses found by DNS for the hosts of resolution DNS / DNS_ROUND_ROBIN service entries
// (service hosts and endpoint addresses alike). The agent's resolver fills it; the compiler
// never resolves anything itself.
using ResolvedHosts = std::map<std::string, std::vector<std::string>>;

// What the snapshot's `security` object is built from besides the resources.
struct SecurityInput {
  // This workload's certificate chain, key and the mesh root bundle (Istio's cert-chain.pem,
  // key.pem, root-cert.pem). Empty: the host has no mesh identity and serves no mTLS.
  std::string cert_chain, key, root_cert;
  // jwksUri -> the JWKS document last fetched from it. A rule whose URI has no document yet
  // gets a key set that verifies nothing, as istiod does, so a token is refused, never trusted.
  std::map<std::string, std::string> jwks_by_uri;
};

struct CompileInput {
  const istio::Resources* resources = nullptr;
  NodeIdentity node;
  ResolvedHosts resolved;
  CompileOptions options;
  SecurityInput security;
};

struct CompileOutput {
  std::string json;     // the snapshot document (docs/snapshot.md), schema 1
  std::string version;  // a digest of the content: equal inputs give equal versions
  // Things an operator should know that did not stop the compile: a route to an unknown host,
  // a DNS host without an answer yet, a subset no rule defines.
  std::vector<std::string> warnings;
};

// The names the agent's resolver must look up for `resources` (sorted, unique): hosts of DNS and
// DNS_ROUND_ROBIN service entries that list no endpoints, and endpoint or WorkloadEntry
// addresses that are names rather than IPs. Their answers go into CompileInput::resolved.
std::vector<std::string> hostsToResolve(const istio::Resources& resources);

// The jwksUri of every RequestAuthentication rule that applies to `node` (sorted, unique): the
// agent fetches them and hands the documents back in SecurityInput::jwks_by_uri.
std::vector<std::string> jwksUris(const istio::Resources& resources, const NodeIdentity& node,
                                  const CompileOptions& options);

// Compiles resources plus this node's identity into the proxy snapshot, following the
// semantics istiod applies to a sidecar. Fails only when the node itself is unusable (no
// numeric IP, unknown workload group, STRICT mTLS asked of a host without an identity).
Result<CompileOutput> compileSnapshot(const CompileInput& input);

}  // namespace meshnode::compiler
