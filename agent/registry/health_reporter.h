#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/registry/registry.h"

namespace meshnode::agent {

// Carries the entry's Healthy condition to the registry and keeps trying, with exponential
// backoff, until a write succeeds: a condition that failed to be written is retried, never
// forgotten. A newer condition replaces one still waiting. Driven by the agent's main loop
// (report() and tick()); not thread-safe.
class HealthReporter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Backoff {
    std::chrono::milliseconds initial{500};
    std::chrono::milliseconds max{std::chrono::seconds(30)};
  };

  HealthReporter(Registry& registry, std::string name_space, std::string name, Backoff backoff)
      : registry_(registry),
        name_space_(std::move(name_space)),
        name_(std::move(name)),
        backoff_(backoff) {}

  void report(const HealthCondition& condition, Clock::time_point now);
  // Retries a waiting condition when its time has come.
  void tick(Clock::time_point now);

  bool pending() const { return waiting_.has_value(); }
  // When tick() next has work, if anything waits.
  std::optional<Clock::time_point> nextAttempt() const;
  int failures() const { return failures_; }

 private:
  void attempt(Clock::time_point now);

  Registry& registry_;
  std::string name_space_;
  std::string name_;
  Backoff backoff_;
  std::optional<HealthCondition> waiting_;
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds delay_{0};
  int failures_ = 0;
};

}  // namespace meshnode::agent
