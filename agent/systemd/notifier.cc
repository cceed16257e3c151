#include "agent/systemd/notifier.h"

#include <cstring>
#include <string>

#include <systemd/sd-daemon.h>

#include "common/log.h"

namespace meshnode::agent {
namespace {

void notify(const std::string& message) {
  int rc = sd_notify(0, message.c_str());
  if (rc < 0) LOG_WARN("systemd: sd_notify %s: %s", message.c_str(), std::strerror(-rc));
}

}  // namespace

void SystemdNotifier::ready() {
  notify("READY=1");
}

void SystemdNotifier::reloading() {
  notify("RELOADING=1");
}

void SystemdNotifier::status(std::string_view text) {
  // The protocol is newline-separated assignments: a newline would start a new one.
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  notify("STATUS=" + line);
}

void SystemdNotifier::watchdog() {
  notify("WATCHDOG=1");
}

void SystemdNotifier::stopping() {
  notify("STOPPING=1");
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdogTimeout() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

}  // namespace meshnode::agent
