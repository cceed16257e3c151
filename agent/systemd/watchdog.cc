#include "agent/systemd/watchdog.h"

#include "common/log.h"

namespace meshnode::agent {

WatchdogPinger::WatchdogPinger(Notifier& notifier, std::chrono::microseconds timeout,
                               std::function<bool()> alive)
    : notifier_(notifier), interval_(timeout / 2), alive_(std::move(alive)) {
  thread_ = std::thread([this] { run(); });
}

WatchdogPinger::~WatchdogPinger() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WatchdogPinger::run() {
  bool warned = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    lock.unlock();
    if (alive_()) {
      notifier_.watchdog();
      warned = false;
    } else if (!warned) {
      LOG_ERROR("systemd: agent loop is stuck; withholding watchdog pings");
      warned = true;
    }
    lock.lock();
    if (cv_.wait_for(lock, interval_, [this] { return stop_; })) return;
  }
}

}  // namespace meshnode::agent
