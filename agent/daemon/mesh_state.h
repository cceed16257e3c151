#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "agent/compiler/compiler.h"
#include "agent/dns/name_table.h"
#include "agent/istio/resource.h"
#include "agent/registry/workload_entry.h"
#include "agent/settings/settings.h"
#include "agent/source/kube_source.h"
#include "common/result.h"

namespace meshnode::agent::daemon {

// The mesh as last read from the config directory. A manifest that fails validation keeps its
// previous good version (istio::keepLastGood), so one bad edit never drops a working route.
struct MeshLoad {
  istio::Resources resources;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

// Reads config.directory; the error names the key and the directory.
Result<MeshLoad> loadMesh(const AgentSettings& settings, const istio::Resources* previous);

struct CompiledSnapshot {
  std::string json;
  std::string version;
};

// This host's mesh identity: paths.certs_dir's cert-chain.pem, key.pem and root-cert.pem when all
// three exist. Otherwise none, and `why_not` says which file is missing.
compiler::SecurityInput securityInput(const AgentSettings& settings, std::string* why_not);

// Compiles this node's snapshot and has the proxy's own parser accept it before anything is
// written: the agent never hands the proxy a file it would refuse. The identity comes from
// securityInput(); when it is missing the reason is logged once (and again when it changes).
// Compile warnings are logged when they first appear.
// `jwks` holds the documents fetched for jwksUri rules (JwksFetcher::documents()).
Result<CompiledSnapshot> compileFor(const AgentSettings& settings,
                                    const istio::Resources& resources,
                                    const compiler::ResolvedHosts& resolved,
                                    const std::map<std::string, std::string>& jwks = {});

// The jwksUri of every RequestAuthentication rule that applies to this node.
std::vector<std::string> jwksUrisFor(const AgentSettings& settings,
                                     const istio::Resources& resources);

// config.source = "kubernetes": the source's options from the settings.
source::KubeSourceOptions kubeSourceOptions(const AgentSettings& settings,
                                            std::chrono::milliseconds debounce);

// The mesh from the configured source: the directory, or what the Kubernetes watches hold
// (`kube`, null for the directory source).
Result<MeshLoad> loadFromSource(const AgentSettings& settings, source::KubeSource* kube,
                                const istio::Resources* previous);

// The "version" of a snapshot document already on disk.
Result<CompiledSnapshot> readSnapshotFile(const std::string& path);

// The WorkloadGroup's template as registration needs it; settings override network and
// service account. Without the group (mesh unavailable at start) only the names are known.
WorkloadTemplate workloadTemplate(const AgentSettings& settings, const istio::Resources& resources);

// ServiceEntry hosts and their declared addresses, for the DNS proxy's name table.
std::vector<dns::MeshHost> meshHosts(const istio::Resources& resources);

}  // namespace meshnode::agent::daemon
