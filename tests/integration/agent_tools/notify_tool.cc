#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "agent/systemd/notifier.h"
#include "agent/systemd/watchdog.h"
#include "tests/integration/agent_tools/tools.h"

namespace meshnode::agent::testtool {

// notify: tells systemd (or whoever owns NOTIFY_SOCKET) what the agent would: a status, READY=1,
// watchdog pings when WATCHDOG_USEC asks for them, and STOPPING=1 on SIGTERM.
int runNotify(int /*argc*/, char** /*argv*/) {
  blockStopSignals();
  SystemdNotifier notifier;
  notifier.status("starting: applying capture");
  notifier.status("serving snapshot 1");
  notifier.ready();
  std::unique_ptr<WatchdogPinger> pinger;
  if (auto timeout = notifier.watchdogTimeout()) {
    pinger = std::make_unique<WatchdogPinger>(notifier, *timeout, [] { return true; });
    std::printf("watchdog every %lld us\n", static_cast<long long>(pinger->interval().count()));
    std::fflush(stdout);
  }
  waitForStopSignal();
  pinger.reset();
  notifier.stopping();
  notifier.status("stopped");
  return 0;
}

}  // namespace meshnode::agent::testtool
