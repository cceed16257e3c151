#include "agent/registry/health_reporter.h"

#include <algorithm>

#include "common/log.h"

namespace meshnode::agent {

void HealthReporter::report(const HealthCondition& condition, Clock::time_point now) {
  waiting_ = condition;
  // A new condition goes out at once; the backoff applies to retries of a failing registry.
  if (failures_ == 0 || now >= next_attempt_) attempt(now);
}

void HealthReporter::tick(Clock::time_point now) {
  if (waiting_ && now >= next_attempt_) attempt(now);
}

std::optional<HealthReporter::Clock::time_point> HealthReporter::nextAttempt() const {
  if (!waiting_) return std::nullopt;
  return next_attempt_;
}

void HealthReporter::attempt(Clock::time_point now) {
  Status s = registry_.updateHealth(name_space_, name_, *waiting_);
  if (s) {
    if (failures_ > 0) {
      LOG_NOTICE("registry: Healthy=%s written for %s/%s after %d failed attempt%s",
                 waiting_->healthy ? "True" : "False", name_space_.c_str(), name_.c_str(),
                 failures_, failures_ == 1 ? "" : "s");
    }
    waiting_.reset();
    failures_ = 0;
    delay_ = std::chrono::milliseconds(0);
    return;
  }
  ++failures_;
  delay_ = delay_.count() == 0 ? backoff_.initial : std::min(delay_ * 2, backoff_.max);
  next_attempt_ = now + delay_;
  LOG_WARN("registry: writing Healthy=%s for %s/%s failed (%s); retrying in %lld ms",
           waiting_->healthy ? "True" : "False", name_space_.c_str(), name_.c_str(),
           s.error().describe().c_str(), static_cast<long long>(delay_.count()));
}

}  // namespace meshnode::agent
