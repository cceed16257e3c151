#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <sys/types.h>

#include "agent/supervisor/backoff.h"
#include "agent/supervisor/spawn.h"
#include "common/result.h"

namespace meshnode::agent::supervisor {

struct SupervisorOptions {
  SpawnSpec spawn;
  BackoffPolicy backoff;
  // How long a drain may take after SIGTERM before the proxy is killed.
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(10)};
};

// Keeps meshnode-proxy running: starts it, reaps it, restarts it with exponential backoff,
// sends it SIGHUP for each new snapshot and SIGTERM to drain it on stop. Runs on the daemon's
// loop thread, which calls reap() when SIGCHLD arrives and tick() on every turn.
class ProxySupervisor {
 public:
  using Clock = RestartBackoff::Clock;

  explicit ProxySupervisor(SupervisorOptions options)
      : options_(std::move(options)), backoff_(options_.backoff) {}
  ~ProxySupervisor();
  ProxySupervisor(const ProxySupervisor&) = delete;
  ProxySupervisor& operator=(const ProxySupervisor&) = delete;

  Status start(Clock::time_point now);
  // Collects an exited proxy and schedules its restart; true when it had exited.
  bool reap(Clock::time_point now);
  // Starts the proxy again once its backoff has passed.
  void tick(Clock::time_point now);
  std::optional<Clock::time_point> nextRestart() const { return restart_at_; }
  // SIGHUP: re-read the snapshot file. Nothing to do while it is down: it reads the file
  // when it starts.
  void reload();
  // SIGTERM, then waits up to stop_timeout for the drain, then SIGKILL. Returns how it ended.
  std::string stop();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint64_t restarts() const { return restarts_; }
  bool crashLooping(Clock::time_point now) const { return backoff_.crashLooping(now); }
  const std::string& lastExit() const { return last_exit_; }
  // Bumped on each start, so the daemon knows to wait for readiness again.
  uint64_t generation() const { return generation_; }

 private:
  SupervisorOptions options_;
  RestartBackoff backoff_;
  pid_t pid_ = -1;
  Clock::time_point started_{};
  std::optional<Clock::time_point> restart_at_;
  uint64_t restarts_ = 0;
  uint64_t generation_ = 0;
  std::string last_exit_;
};

// "exited with status 1", "killed by signal 9 (Killed)".
std::string describeWaitStatus(int status);

}  // namespace meshnode::agent::supervisor
