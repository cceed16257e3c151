#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace meshnode::agent::supervisor {

struct BackoffPolicy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{std::chrono::seconds(30)};
  // A run at least this long was healthy: the next crash starts again at `initial`.
  std::chrono::milliseconds stable{std::chrono::seconds(10)};
  // This many exits within `window` is a crash loop.
  uint32_t crash_loop_exits = 3;
  std::chrono::milliseconds window{std::chrono::seconds(60)};
};

// When to start the proxy again after it exited, and whether it is crash looping. A pure
// function of the exit times, so tests drive it with made-up clocks. Not thread-safe.
class RestartBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RestartBackoff(BackoffPolicy policy) : policy_(policy) {}

  // Records an exit of a run that started at `started`; returns the delay before the restart.
  std::chrono::milliseconds onExit(Clock::time_point started, Clock::time_point exited);
  bool crashLooping(Clock::time_point now) const;
  uint64_t exits() const { return exits_; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds next_{0};
  std::deque<Clock::time_point> recent_;
  uint64_t exits_ = 0;
};

}  // namespace meshnode::agent::supervisor
