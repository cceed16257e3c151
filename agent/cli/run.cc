#include <cstdio>
#include <string>
#include <string_view>

#include "agent/cli/commands.h"
#include "agent/daemon/daemon.h"
#include "agent/systemd/notifier.h"
#include "common/log.h"

namespace meshnode::agent::cli {
namespace {

constexpr const char* kRunUsage =
    "usage: meshnode-agent run [--config PATH] [--status-port PORT] [--log-level LEVEL]\n"
    "  --config PATH       settings file (default /etc/meshnode/agent.toml)\n"
    "  --status-port PORT  status server on 127.0.0.1 (default 15020)\n"
    "  --log-level LEVEL   error, warning, notice, info (default) or debug\n"
    "Runs the agent: capture, DNS, the supervised proxy, registration. SIGHUP reloads the\n"
    "settings; SIGTERM disconnects, drains the proxy, removes capture and exits.\n";

}  // namespace

int runRun(int argc, char** argv) {
  daemon::DaemonOptions options;
  log::setLevel(log::Level::kInfo);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--config" && has_value) {
      options.config_path = argv[++i];
    } else if (arg == "--status-port" && has_value) {
      int port = std::atoi(argv[++i]);
      if (port < 0 || port > 65535) {
        std::fprintf(stderr, "meshnode-agent run: --status-port must be 0..65535\n");
        return 64;
      }
      options.status_port = static_cast<uint16_t>(port);
    } else if (arg == "--log-level" && has_value) {
      log::Level level;
      if (!log::parseLevel(argv[++i], &level)) {
        std::fprintf(stderr, "meshnode-agent run: unknown --log-level '%s'\n", argv[i]);
        return 64;
      }
      log::setLevel(level);
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kRunUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "meshnode-agent run: unknown argument '%s'\n", argv[i]);
      std::fputs(kRunUsage, stderr);
      return 64;
    }
  }
  SystemdNotifier notifier;
  daemon::Daemon d(options, notifier);
  return d.run();
}

}  // namespace meshnode::agent::cli
