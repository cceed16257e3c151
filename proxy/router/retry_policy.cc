#include "proxy/router/retry_policy.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace meshnode::proxy {
namespace {

bool has(const RetryPolicy& p, std::string_view condition) {
  return std::find(p.retry_on.begin(), p.retry_on.end(), condition) != p.retry_on.end();
}

bool gatewayError(int status) {
  return status == 502 || status == 503 || status == 504;
}

// gRPC answers errors with HTTP 200 and a grpc-status header (a trailers-only response).
bool retryOnGrpcStatus(const RetryPolicy& p, const ResponseHead& response) {
  const std::string* value = findHeader(response.headers, "grpc-status");
  if (!value) return false;
  switch (std::atoi(value->c_str())) {
    case 1:
      return has(p, "cancelled");
    case 4:
      return has(p, "deadline-exceeded");
    case 8:
      return has(p, "resource-exhausted");
    case 13:
      return has(p, "internal");
    case 14:
      return has(p, "unavailable");
    default:
      return false;
  }
}

}  // namespace

bool retryOnResponse(const RetryPolicy& p, const ResponseHead& response) {
  int status = response.status;
  if (status >= 500 && has(p, "5xx")) return true;
  if (gatewayError(status) && has(p, "gateway-error")) return true;
  if (status == 409 && has(p, "retriable-4xx")) return true;
  if (has(p, "retriable-status-codes") &&
      std::find(p.retriable_status_codes.begin(), p.retriable_status_codes.end(), status) !=
          p.retriable_status_codes.end())
    return true;
  return retryOnGrpcStatus(p, response);
}

bool retryOnFailure(const RetryPolicy& p, AttemptFailure failure) {
  // 5xx and gateway-error cover an upstream that did not answer at all, as in Envoy.
  if (has(p, "5xx") || has(p, "gateway-error")) return true;
  switch (failure) {
    case AttemptFailure::kConnectFailure:
      return has(p, "connect-failure") || has(p, "reset");
    case AttemptFailure::kRefusedStream:
      return has(p, "refused-stream") || has(p, "reset");
    case AttemptFailure::kReset:
    case AttemptFailure::kPerTryTimeout:
      return has(p, "reset");
  }
  return false;
}

Millis retryBackoff(uint32_t retry, std::mt19937& rng) {
  constexpr int64_t kBase = 25;
  int64_t ceiling = kBase << std::min<uint32_t>(retry > 0 ? retry - 1 : 0, 8);
  ceiling = std::min<int64_t>(ceiling, kBase * 10);
  return Millis(std::uniform_int_distribution<int64_t>(0, ceiling)(rng));
}

}  // namespace meshnode::proxy
