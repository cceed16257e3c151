#include "agent/cli/check.h"

#include <cstdio>
#include <string>
#include <string_view>

#include "agent/settings/environment.h"
#include "agent/settings/settings.h"

namespace meshnode::agent {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitConfig = 78;

void usage() {
  std::fprintf(stderr,
               "usage: meshnode-agent check [--config PATH] [--syntax-only]\n"
               "  --config PATH   settings file (default %s)\n"
               "  --syntax-only   check the file alone, not the directories, files and user "
               "it names\n",
               kDefaultSettingsPath);
}

}  // namespace

int runCheck(int argc, char** argv) {
  std::string path = kDefaultSettingsPath;
  bool syntax_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = std::string(arg.substr(9));
    } else if (arg == "--syntax-only") {
      syntax_only = true;
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
  std::printf("%s: ok (workload %s/%s at %s%s, registry %s, %zu DNS upstream%s)\n", path.c_str(),
              s.workload.name_space.c_str(), s.workload.group.c_str(), s.workload.address.c_str(),
              s.workload.address_detected ? " (detected)" : "",
              s.registry.type == RegistrySettings::Type::kFile ? "file" : "kubernetes",
              s.dns.upstreams.size(), s.dns.upstreams.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace meshnode::agent
