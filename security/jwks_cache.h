#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "security/jwks.h"
#include "security/jwt.h"

namespace meshnode::security {

// The keys of one jwksUri: when to fetch them, and which set is in force. It does no I/O; the
// owner (on the control thread) fetches when due() and reports the outcome. A failed fetch or
// a body that does not parse keeps the last good keys and retries with a doubling delay.
class JwksCache {
 public:
  struct Timing {
    std::chrono::seconds refresh = std::chrono::minutes(20);
    std::chrono::seconds first_retry = std::chrono::seconds(1);
    std::chrono::seconds max_retry = std::chrono::minutes(5);
  };

  explicit JwksCache(std::string uri) : JwksCache(std::move(uri), Timing{}) {}
  JwksCache(std::string uri, Timing timing);

  const std::string& uri() const { return uri_; }
  bool due(SystemTime now) const { return now >= next_attempt_; }
  SystemTime nextAttempt() const { return next_attempt_; }

  // A response body arrived. Parse errors are returned (and the old keys kept).
  Status onFetched(std::string_view body, SystemTime now);
  // The fetch itself failed (connect, timeout, non-200).
  void onFetchFailed(const Error& error, SystemTime now);

  // Null until a first fetch succeeds; then the last good set.
  std::shared_ptr<const Jwks> keys() const { return keys_; }

 private:
  void scheduleRetry(SystemTime now);

  std::string uri_;
  Timing timing_;
  std::shared_ptr<const Jwks> keys_;
  SystemTime next_attempt_{};
  std::chrono::seconds retry_delay_;
};

}  // namespace meshnode::security
