#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace meshnode::agent {

// What the agent tells its service manager. An interface so tests and non-systemd hosts can
// stand in for systemd.
class Notifier {
 public:
  virtual ~Notifier() = default;

  // READY=1: capture applied, first snapshot served, proxy ready.
  virtual void ready() = 0;
  // RELOADING=1 while agent.toml is re-read after SIGHUP; ready() ends it.
  virtual void reloading() = 0;
  // STATUS=<text>: one line, shown by `systemctl status`.
  virtual void status(std::string_view text) = 0;
  // WATCHDOG=1.
  virtual void watchdog() = 0;
  // STOPPING=1.
  virtual void stopping() = 0;
  // WatchdogSec as systemd passed it to this process, if it asked for pings.
  virtual std::optional<std::chrono::microseconds> watchdogTimeout() const = 0;
};

// sd_notify(3) through libsystemd: NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the
// environment. Without NOTIFY_SOCKET every call does nothing, so the agent runs the same
// outside systemd. Safe to call from any thread.
class SystemdNotifier : public Notifier {
 public:
  void ready() override;
  void reloading() override;
  void status(std::string_view text) override;
  void watchdog() override;
  void stopping() override;
  std::optional<std::chrono::microseconds> watchdogTimeout() const override;
};

}  // namespace meshnode::agent
