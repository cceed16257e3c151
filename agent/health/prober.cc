#include "agent/health/prober.h"

#include "common/log.h"

namespace meshnode::agent {

std::optional<bool> ProbeState::observe(bool success) {
  if (success) {
    failures_ = 0;
    if (++successes_ >= success_threshold_ && healthy_ != true) {
      healthy_ = true;
      return true;
    }
  } else {
    successes_ = 0;
    if (++failures_ >= failure_threshold_ && healthy_ != false) {
      healthy_ = false;
      return false;
    }
  }
  return std::nullopt;
}

Prober::Prober(Probe probe, std::string default_host, Callback callback)
    : Prober(std::move(probe), Runner([host = std::move(default_host)](const Probe& p) {
               return runProbeOnce(p, host);
             }),
             std::move(callback)) {}

Prober::Prober(Probe probe, Runner runner, Callback callback)
    : probe_(std::move(probe)), runner_(std::move(runner)), callback_(std::move(callback)) {
  thread_ = std::thread([this] { run(); });
}

Prober::~Prober() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool Prober::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void Prober::run() {
  if (!sleepFor(std::chrono::seconds(probe_.initial_delay_seconds))) return;
  ProbeState state(probe_.success_threshold, probe_.failure_threshold);
  auto period = std::chrono::seconds(probe_.period_seconds);
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    ProbeOutcome outcome = runner_(probe_);
    LOG_DEBUG("health: %s", outcome.message.c_str());
    if (auto changed = state.observe(outcome.success)) {
      LOG_NOTICE("health: workload is now %s (%s)", *changed ? "healthy" : "unhealthy",
                 outcome.message.c_str());
      callback_(HealthTransition{*changed, outcome, std::chrono::system_clock::now()});
    }
    // Periods are counted from the start of each probe, so a slow probe does not drift them.
    next += period;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next - std::chrono::steady_clock::now());
    if (wait.count() < 0) {
      next = std::chrono::steady_clock::now();
      wait = std::chrono::milliseconds(0);
    }
    if (!sleepFor(wait)) return;
  }
}

}  // namespace meshnode::agent
