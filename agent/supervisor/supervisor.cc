#include "agent/supervisor/supervisor.h"

#include <cstring>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

#include "common/log.h"

namespace meshnode::agent::supervisor {

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "stopped";
}

ProxySupervisor::~ProxySupervisor() {
  if (running()) stop();
}

Status ProxySupervisor::start(Clock::time_point now) {
  auto pid = spawnProcess(options_.spawn);
  if (!pid) return pid.error();
  pid_ = *pid;
  started_ = now;
  restart_at_.reset();
  ++generation_;
  LOG_NOTICE("proxy started: pid %d (%s)", pid_, options_.spawn.binary.c_str());
  return {};
}

bool ProxySupervisor::reap(Clock::time_point now) {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  pid_ = -1;
  last_exit_ = describeWaitStatus(status);
  auto delay = backoff_.onExit(started_, now);
  restart_at_ = now + delay;
  LOG_ERROR("proxy %s; restarting in %lld ms%s", last_exit_.c_str(),
            static_cast<long long>(delay.count()),
            backoff_.crashLooping(now) ? " (crash loop: check the proxy's log lines above)" : "");
  return true;
}

void ProxySupervisor::tick(Clock::time_point now) {
  if (!restart_at_ || now < *restart_at_) return;
  if (Status s = start(now); !s) {
    auto delay = backoff_.onExit(now, now);
    restart_at_ = now + delay;
    LOG_ERROR("proxy restart failed: %s; next try in %lld ms", s.error().detail.c_str(),
              static_cast<long long>(delay.count()));
    return;
  }
  ++restarts_;
}

void ProxySupervisor::reload() {
  if (pid_ > 0) ::kill(pid_, SIGHUP);
}

std::string ProxySupervisor::stop() {
  restart_at_.reset();
  if (pid_ <= 0) return "not running";
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + options_.stop_timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "drained, " + describeWaitStatus(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return "killed after the drain timeout";
}

}  // namespace meshnode::agent::supervisor
