#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/health/probe.h"
#include "agent/health/probe_runner.h"

namespace meshnode::agent {

// Kubernetes' threshold rule, as Istio applies it to a WorkloadEntry's Healthy condition: the
// state is unknown until successThreshold successes in a row make it healthy or
// failureThreshold failures in a row make it unhealthy; after that it flips only on the same
// runs.
class ProbeState {
 public:
  ProbeState(uint32_t success_threshold, uint32_t failure_threshold)
      : success_threshold_(success_threshold), failure_threshold_(failure_threshold) {}

  // The new state when this result changes it.
  std::optional<bool> observe(bool success);
  std::optional<bool> healthy() const { return healthy_; }

 private:
  uint32_t success_threshold_;
  uint32_t failure_threshold_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
  std::optional<bool> healthy_;
};

struct HealthTransition {
  bool healthy = false;
  ProbeOutcome outcome;  // the probe that tipped it
  std::chrono::system_clock::time_point at;
};

// Runs the probe every periodSeconds after initialDelaySeconds on a thread of its own, and
// calls back (on that thread) each time the state changes.
class Prober {
 public:
  using Callback = std::function<void(const HealthTransition&)>;
  using Runner = std::function<ProbeOutcome(const Probe&)>;

  Prober(Probe probe, std::string default_host, Callback callback);
  // Tests give their own runner to stand in for the workload.
  Prober(Probe probe, Runner runner, Callback callback);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

 private:
  void run();
  // False when stopped while waiting.
  bool sleepFor(std::chrono::milliseconds d);

  Probe probe_;
  Runner runner_;
  Callback callback_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace meshnode::agent
