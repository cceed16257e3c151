#include "agent/daemon/mesh_state.h"

#include <filesystem>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "agent/istio/loader.h"
#include "common/file.h"
#include "common/log.h"
#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::agent::daemon {

Result<MeshLoad> loadMesh(const AgentSettings& settings, const istio::Resources* previous) {
  MeshLoad load;
  istio::LoadReport report;
  if (Status st = istio::loadDirectory(settings.config.directory, &load.resources, &report); !st)
    return makeError(st.error().code, Side::kConfig,
                     settings.file + ": config.directory: " + st.error().detail, true);
  if (previous) istio::keepLastGood(*previous, report.rejected, &load.resources);
  load.errors = std::move(report.errors);
  load.warnings = std::move(report.warnings);
  return load;
}

compiler::SecurityInput securityInput(const AgentSettings& settings, std::string* why_not) {
  namespace fs = std::filesystem;
  compiler::SecurityInput in;
  const fs::path dir = settings.paths.certs_dir;
  std::string paths[3];
  const char* names[3] = {"cert-chain.pem", "key.pem", "root-cert.pem"};
  for (int i = 0; i < 3; ++i) {
    paths[i] = (dir / names[i]).string();
    std::error_code ec;
    if (!fs::is_regular_file(paths[i], ec)) {
      *why_not = settings.file + ": paths.certs_dir: " + paths[i] +
                 (ec ? ": " + ec.message() : std::string(" does not exist")) +
                 "; the host has no mesh identity and serves no mTLS";
      return in;
    }
  }
  why_not->clear();
  in.cert_chain = paths[0];
  in.key = paths[1];
  in.root_cert = paths[2];
  return in;
}

namespace {

compiler::NodeIdentity nodeFor(const AgentSettings& settings) {
  compiler::NodeIdentity node;
  node.ns = settings.workload.name_space;
  node.ip = settings.workload.address;
  node.workload_group = settings.workload.group;
  return node;
}

}  // namespace

std::vector<std::string> jwksUrisFor(const AgentSettings& settings,
                                     const istio::Resources& resources) {
  return compiler::jwksUris(resources, nodeFor(settings), compiler::CompileOptions{});
}

Result<CompiledSnapshot> compileFor(const AgentSettings& settings,
                                    const istio::Resources& resources,
                                    const compiler::ResolvedHosts& resolved,
                                    const std::map<std::string, std::string>& jwks) {
  std::string why_not;
  compiler::CompileInput input;
  input.security = securityInput(settings, &why_not);
  input.security.jwks_by_uri = jwks;
  {
    // Recompiles happen on every mesh change; the reason is worth one line, not one per change.
    static std::mutex mutex;
    static std::string logged;
    std::lock_guard lock(mutex);
    if (why_not != logged && !why_not.empty()) LOG_WARN("%s", why_not.c_str());
    if (why_not != logged && why_not.empty() && !logged.empty())
      LOG_INFO("mesh identity found in %s", settings.paths.certs_dir.c_str());
    logged = why_not;
  }
  input.resources = &resources;
  input.node = nodeFor(settings);
  input.resolved = resolved;
  auto out = compiler::compileSnapshot(input);
  if (!out) return out.error();
  {
    // A compile warning (a jwksUri without keys yet, a route to an unknown host) is logged when
    // it first appears, not again at every recompile while it lasts.
    static std::mutex mutex;
    static std::set<std::string> logged;
    std::lock_guard lock(mutex);
    std::set<std::string> now(out->warnings.begin(), out->warnings.end());
    for (const auto& w : now)
      if (!logged.count(w)) LOG_WARN("compile: %s", w.c_str());
    logged = std::move(now);
  }
  if (auto parsed = proxy::parseSnapshot(out->json, "compiled snapshot"); !parsed)
    return makeError(ErrorCode::kInternal, Side::kInternal,
                     "the proxy would refuse the compiled snapshot: " + parsed.error().detail);
  return CompiledSnapshot{std::move(out->json), std::move(out->version)};
}

source::KubeSourceOptions kubeSourceOptions(const AgentSettings& s,
                                            std::chrono::milliseconds debounce) {
  source::KubeSourceOptions o;
  o.api_server = s.config.api_server;
  o.token_file = s.config.token_file;
  o.ca_file = s.config.ca_file;
  o.domain_suffix = s.config.domain_suffix;
  o.debounce = debounce;
  return o;
}

// The mesh from the configured source: the directory, or what the Kubernetes watches hold.
Result<MeshLoad> loadFromSource(const AgentSettings& s, source::KubeSource* kube,
                                const istio::Resources* previous) {
  if (!kube) return loadMesh(s, previous);
  auto load = kube->load();
  if (!load) return load.error();
  return MeshLoad{std::move(load->resources), std::move(load->errors), std::move(load->warnings)};
}

Result<CompiledSnapshot> readSnapshotFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  if (auto parsed = proxy::parseSnapshot(*text, path); !parsed) return parsed.error();
  CompiledSnapshot s;
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_object() && doc.contains("version") && doc["version"].is_string())
    s.version = doc["version"].get<std::string>();
  s.json = std::move(*text);
  return s;
}

WorkloadTemplate workloadTemplate(const AgentSettings& settings,
                                  const istio::Resources& resources) {
  WorkloadTemplate t;
  t.group = settings.workload.group;
  t.name_space = settings.workload.name_space;
  for (const auto& g : resources.workload_groups) {
    if (g.meta.name != t.group || g.meta.ns != t.name_space) continue;
    t.labels = g.template_.labels;
    for (const auto& [k, v] : g.labels)
      t.labels.emplace(k, v);
    t.service_account = g.template_.service_account;
    t.network = g.template_.network;
    t.locality = g.template_.locality;
    t.weight = g.template_.weight;
    t.ports = g.template_.ports;
  }
  if (!settings.workload.network.empty()) t.network = settings.workload.network;
  if (!settings.workload.service_account.empty())
    t.service_account = settings.workload.service_account;
  return t;
}

std::vector<dns::MeshHost> meshHosts(const istio::Resources& resources) {
  std::vector<dns::MeshHost> hosts;
  for (const auto& se : resources.service_entries)
    for (const auto& h : se.hosts) {
      dns::MeshHost m{h, {}};
      // CIDR blocks are for capture, not for a DNS answer.
      for (const auto& a : se.addresses)
        if (a.find('/') == std::string::npos) m.addresses.push_back(a);
      hosts.push_back(std::move(m));
    }
  return hosts;
}

}  // namespace meshnode::agent::daemon
