#include "security/jwks_cache.h"

#include <algorithm>

#include "common/log.h"

namespace meshnode::security {

JwksCache::JwksCache(std::string uri, Timing timing)
    : uri_(std::move(uri)), timing_(timing), retry_delay_(timing.first_retry) {}

Status JwksCache::onFetched(std::string_view body, SystemTime now) {
  auto parsed = Jwks::parse(body, uri_);
  if (!parsed) {
    LOG_WARN("JWKS %s refused, keeping the %s: %s", uri_.c_str(),
             keys_ ? "last good keys" : "provider without keys", parsed.error().describe().c_str());
    scheduleRetry(now);
    return parsed.error();
  }
  keys_ = std::move(parsed).value();
  retry_delay_ = timing_.first_retry;
  next_attempt_ = now + timing_.refresh;
  return {};
}

void JwksCache::onFetchFailed(const Error& error, SystemTime now) {
  LOG_WARN("JWKS %s fetch failed, keeping the %s: %s", uri_.c_str(),
           keys_ ? "last good keys" : "provider without keys", error.describe().c_str());
  scheduleRetry(now);
}

void JwksCache::scheduleRetry(SystemTime now) {
  next_attempt_ = now + retry_delay_;
  retry_delay_ = std::min(retry_delay_ * 2, timing_.max_retry);
}

}  // namespace meshnode::security
