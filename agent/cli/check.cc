#include "agent/cli/check.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/daemon/mesh_state.h"
#include "agent/settings/environment.h"
#include "agent/settings/settings.h"

namespace meshnode::agent {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 78;
constexpr std::chrono::milliseconds kMeshDebounce{100};
// How long the API server gets to list every collection once.
constexpr std::chrono::seconds kSyncBudget{10};

void usage() {
  std::fprintf(stderr,
               "usage: meshnode-agent check [--config PATH] [--syntax-only | --no-mesh]\n"
               "  --config PATH   settings file (default %s)\n"
               "  --syntax-only   check the file alone, not the directories, files, user and "
               "mesh it names\n"
               "  --no-mesh       check the file and this host, not the mesh (the unit's "
               "ExecStartPre:\n"
               "                  a bad manifest or an unreachable API server must not keep "
               "the agent,\n"
               "                  and the last good snapshot, from starting)\n",
               kDefaultSettingsPath);
}

// What `run` would read and compile from the config source: every manifest (or API object)
// problem and whether this node's snapshot compiles. Returns the errors; warnings are printed.
std::vector<std::string> checkMesh(const AgentSettings& s, size_t* resources) {
  std::vector<std::string> errors;
  std::unique_ptr<source::KubeSource> kube;
  if (s.config.kubernetes()) {
    auto started = source::KubeSource::start(daemon::kubeSourceOptions(s, kMeshDebounce));
    if (!started) return {s.file + ": config.api_server: " + started.error().detail};
    kube = std::move(*started);
    kube->waitForSync(kSyncBudget);
  }
  auto mesh = daemon::loadFromSource(s, kube.get(), nullptr);
  if (!mesh) return {mesh.error().detail};
  for (const auto& w : mesh->warnings)
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  errors = std::move(mesh->errors);
  *resources = mesh->resources.count();
  auto compiled = daemon::compileFor(s, mesh->resources, {});
  if (!compiled)
    errors.push_back(s.file + ": the snapshot for workload " + s.workload.name_space + "/" +
                     s.workload.group + " does not compile: " + compiled.error().detail);
  return errors;
}

}  // namespace

int runCheck(int argc, char** argv) {
  std::string path = kDefaultSettingsPath;
  bool syntax_only = false;
  bool no_mesh = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = std::string(arg.substr(9));
    } else if (arg == "--syntax-only") {
      syntax_only = true;
    } else if (arg == "--no-mesh") {
      no_mesh = true;
    } else if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "meshnode-agent check: unknown argument '%s'\n", argv[i]);
      usage();
      return kExitUsage;
    }
  }

  SettingsLoad load = loadSettings(path, readHostFacts());
  if (load.settings && !syntax_only) {
    for (auto& p : checkEnvironment(*load.settings))
      load.problems.push_back(std::move(p));
  }
  for (const auto& p : load.problems)
    std::fprintf(stderr, "%s\n", p.describe().c_str());
  if (!load.problems.empty()) {
    std::fprintf(stderr, "%s: %zu problem%s\n", path.c_str(), load.problems.size(),
                 load.problems.size() == 1 ? "" : "s");
    return kExitConfig;
  }
  const AgentSettings& s = *load.settings;
  size_t resources = 0;
  if (!syntax_only && !no_mesh) {
    auto errors = checkMesh(s, &resources);
    for (const auto& e : errors)
      std::fprintf(stderr, "%s\n", e.c_str());
    if (!errors.empty()) {
      std::fprintf(stderr, "%s: %zu problem%s in the mesh it points at\n", path.c_str(),
                   errors.size(), errors.size() == 1 ? "" : "s");
      return kExitConfig;
    }
  }
  std::string mesh =
      syntax_only || no_mesh ? "mesh not read" : std::to_string(resources) + " mesh resources";
  std::printf("%s: ok (workload %s/%s at %s%s, %s, registry %s, %zu DNS upstream%s)\n",
              path.c_str(), s.workload.name_space.c_str(), s.workload.group.c_str(),
              s.workload.address.c_str(), s.workload.address_detected ? " (detected)" : "",
              mesh.c_str(),
              s.registry.type == RegistrySettings::Type::kFile ? "file" : "kubernetes",
              s.dns.upstreams.size(), s.dns.upstreams.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace meshnode::agent
