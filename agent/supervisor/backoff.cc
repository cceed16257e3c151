#include "agent/supervisor/backoff.h"

#include <algorithm>

namespace meshnode::agent::supervisor {

std::chrono::milliseconds RestartBackoff::onExit(Clock::time_point started,
                                                 Clock::time_point exited) {
  ++exits_;
  recent_.push_back(exited);
  while (!recent_.empty() && exited - recent_.front() > policy_.window)
    recent_.pop_front();
  if (exited - started >= policy_.stable || next_.count() == 0) {
    next_ = policy_.initial;
  } else {
    next_ = std::min(next_ * 2, policy_.max);
  }
  return next_;
}

bool RestartBackoff::crashLooping(Clock::time_point now) const {
  size_t n = 0;
  for (auto t : recent_)
    if (now - t <= policy_.window) ++n;
  return n >= policy_.crash_loop_exits;
}

}  // namespace meshnode::agent::supervisor
