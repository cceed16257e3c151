#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "common/log.h"
#include "iptables/capture.h"
#include "iptables/capture_lock.h"
#include "iptables/cli_options.h"
#include "iptables/rule_set.h"

namespace {

// sysexits(3)
constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;
constexpr int kExitConfig = 78;

int failure(const meshnode::Error& error) {
  std::fprintf(stderr, "meshnode-iptables: %s\n", error.describe().c_str());
  return error.code == meshnode::ErrorCode::kNotFound ? kExitUnavailable : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace meshnode::iptables;
  meshnode::log::setProgram("meshnode-iptables");

  auto command_line = parseCommandLine(argc, argv);
  if (!command_line.ok()) {
    std::fprintf(stderr, "meshnode-iptables: %s\n%s", command_line.error().detail.c_str(),
                 usageText().c_str());
    return kExitUsage;
  }
  const CommandLine& cl = command_line.value();
  if (cl.command == Command::kHelp) {
    std::fputs(usageText().c_str(), stdout);
    return 0;
  }
  if (!cl.log_level.empty()) {
    meshnode::log::Level level;
    if (!meshnode::log::parseLevel(cl.log_level, &level)) {
      std::fprintf(stderr, "meshnode-iptables: --log-level: unknown level '%s'\n",
                   cl.log_level.c_str());
      return kExitUsage;
    }
    meshnode::log::setLevel(level);
  }
  auto config = captureConfigFrom(cl);
  if (!config.ok()) {
    std::fprintf(stderr, "meshnode-iptables: %s\n", config.error().detail.c_str());
    return kExitConfig;
  }
  // Test-only: provokes a failure so the rollback can be shown to work.
  const char* fault_env = std::getenv("MESHNODE_CAPTURE_FAULT");
  auto fault = parseFault(fault_env ? fault_env : "");
  if (!fault) {
    std::fprintf(stderr, "meshnode-iptables: MESHNODE_CAPTURE_FAULT: unknown fault '%s'\n",
                 fault_env);
    return kExitUsage;
  }

  RuleSet rules = buildRuleSet(config.value(), readHostFacts());
  ProcessExecutor executor;
  auto backend = resolveBackend(cl.backend, executor);
  if (!backend.ok()) return failure(backend.error());
  Capture capture(executor, backend.value(), cl.state_dir);
  std::optional<CaptureLock> lock;
  if (cl.command == Command::kApply || cl.command == Command::kCleanup) {
    auto acquired = CaptureLock::acquire(cl.state_dir);
    if (!acquired.ok()) return failure(acquired.error());
    lock.emplace(std::move(acquired).value());
  }

  switch (cl.command) {
    case Command::kPrint:
      std::printf("# backend: %s\n%s", toString(backend.value()), capture.render(rules).c_str());
      return 0;
    case Command::kApply: {
      auto applied = capture.apply(rules, *fault);
      if (!applied.ok()) return failure(applied.error());
      std::printf("%s\n", applied.value() ? "capture rules installed"
                                          : "capture rules already installed; nothing changed");
      return 0;
    }
    case Command::kCleanup: {
      auto removed = capture.cleanup();
      if (!removed.ok()) return failure(removed.error());
      std::printf("%s\n", removed.value() ? "capture rules removed"
                                          : "no capture rules installed; nothing changed");
      return 0;
    }
    case Command::kVerify: {
      auto diffs = capture.verify(rules);
      if (!diffs.ok()) return failure(diffs.error());
      if (diffs->empty()) {
        std::printf("capture rules match\n");
        return 0;
      }
      std::printf("capture rules differ from the expected:\n");
      for (const auto& d : diffs.value())
        std::printf("  %s\n", d.c_str());
      return 1;
    }
    case Command::kHelp:
      break;
  }
  return 0;
}
