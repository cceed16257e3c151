#pragma once

#include <random>

#include "proxy/http/message.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// Why an attempt produced no response head.
enum class AttemptFailure {
  kConnectFailure,  // the upstream connection could not be made
  kRefusedStream,   // HTTP/2 REFUSED_STREAM: the upstream did not process the request
  kReset,           // the stream or connection went away before a response
  kPerTryTimeout,   // no response within retries.per_try_timeout_ms
};

// Envoy's retry_on conditions, applied to an attempt that got a response head.
bool retryOnResponse(const RetryPolicy& policy, const ResponseHead& response);

// Envoy's retry_on conditions, applied to an attempt that got no response head.
bool retryOnFailure(const RetryPolicy& policy, AttemptFailure failure);

// The pause before retry number `retry` (1-based): Envoy's default 25 ms base interval doubled per
// retry up to ten times the base, with full jitter, so a struggling upstream is not hammered in
// lock step.
Millis retryBackoff(uint32_t retry, std::mt19937& rng);

}  // namespace meshnode::proxy
