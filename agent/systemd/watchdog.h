#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/systemd/notifier.h"

namespace meshnode::agent {

// Sends WATCHDOG=1 every half of the watchdog timeout, as sd_watchdog_enabled(3) advises, for
// as long as `alive` says the agent's loops are turning; a stuck agent stops pinging and
// systemd restarts it. Runs on a thread of its own.
class WatchdogPinger {
 public:
  WatchdogPinger(Notifier& notifier, std::chrono::microseconds timeout,
                 std::function<bool()> alive);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

  std::chrono::microseconds interval() const { return interval_; }

 private:
  void run();

  Notifier& notifier_;
  std::chrono::microseconds interval_;
  std::function<bool()> alive_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace meshnode::agent
