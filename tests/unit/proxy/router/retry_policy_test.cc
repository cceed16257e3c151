#include "proxy/router/retry_policy.h"

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

RetryPolicy on(std::vector<std::string> conditions, std::vector<uint16_t> codes = {}) {
  RetryPolicy p;
  p.attempts = 2;
  p.retry_on = std::move(conditions);
  p.retriable_status_codes = std::move(codes);
  return p;
}

ResponseHead status(int s, HeaderList headers = {}) {
  ResponseHead h;
  h.status = s;
  h.headers = std::move(headers);
  return h;
}

TEST(RetryPolicyTest, FiveXxRetriesEveryServerErrorAndNoAnswer) {
  auto p = on({"5xx"});
  EXPECT_TRUE(retryOnResponse(p, status(500)));
  EXPECT_TRUE(retryOnResponse(p, status(503)));
  EXPECT_FALSE(retryOnResponse(p, status(404)));
  EXPECT_FALSE(retryOnResponse(p, status(200)));
  EXPECT_TRUE(retryOnFailure(p, AttemptFailure::kConnectFailure));
  EXPECT_TRUE(retryOnFailure(p, AttemptFailure::kReset));
  EXPECT_TRUE(retryOnFailure(p, AttemptFailure::kPerTryTimeout));
}

TEST(RetryPolicyTest, GatewayErrorOnlyRetries502To504) {
  auto p = on({"gateway-error"});
  EXPECT_FALSE(retryOnResponse(p, status(500)));
  EXPECT_TRUE(retryOnResponse(p, status(502)));
  EXPECT_TRUE(retryOnResponse(p, status(503)));
  EXPECT_TRUE(retryOnResponse(p, status(504)));
  EXPECT_TRUE(retryOnFailure(p, AttemptFailure::kReset));
}

TEST(RetryPolicyTest, NarrowConditions) {
  auto connect = on({"connect-failure"});
  EXPECT_TRUE(retryOnFailure(connect, AttemptFailure::kConnectFailure));
  EXPECT_FALSE(retryOnFailure(connect, AttemptFailure::kReset));
  EXPECT_FALSE(retryOnResponse(connect, status(503)));

  auto refused = on({"refused-stream"});
  EXPECT_TRUE(retryOnFailure(refused, AttemptFailure::kRefusedStream));
  EXPECT_FALSE(retryOnFailure(refused, AttemptFailure::kReset));

  auto reset = on({"reset"});
  EXPECT_TRUE(retryOnFailure(reset, AttemptFailure::kReset));
  EXPECT_TRUE(retryOnFailure(reset, AttemptFailure::kConnectFailure));
  EXPECT_TRUE(retryOnFailure(reset, AttemptFailure::kPerTryTimeout));
  EXPECT_FALSE(retryOnResponse(reset, status(503)));
}

TEST(RetryPolicyTest, Retriable4xxIsConflictOnly) {
  auto p = on({"retriable-4xx"});
  EXPECT_TRUE(retryOnResponse(p, status(409)));
  EXPECT_FALSE(retryOnResponse(p, status(429)));
  EXPECT_FALSE(retryOnResponse(p, status(500)));
}

TEST(RetryPolicyTest, RetriableStatusCodesNeedTheCondition) {
  EXPECT_TRUE(retryOnResponse(on({"retriable-status-codes"}, {429, 418}), status(418)));
  EXPECT_FALSE(retryOnResponse(on({"retriable-status-codes"}, {429}), status(418)));
  EXPECT_FALSE(retryOnResponse(on({}, {418}), status(418)));
}

TEST(RetryPolicyTest, GrpcStatusConditions) {
  auto p = on({"unavailable", "cancelled"});
  EXPECT_TRUE(retryOnResponse(p, status(200, {{"grpc-status", "14"}})));
  EXPECT_TRUE(retryOnResponse(p, status(200, {{"grpc-status", "1"}})));
  EXPECT_FALSE(retryOnResponse(p, status(200, {{"grpc-status", "4"}})));
  EXPECT_FALSE(retryOnResponse(p, status(200)));
}

TEST(RetryPolicyTest, NoConditionsNoRetry) {
  auto p = on({});
  EXPECT_FALSE(retryOnResponse(p, status(503)));
  EXPECT_FALSE(retryOnFailure(p, AttemptFailure::kConnectFailure));
}

TEST(RetryPolicyTest, BackoffIsJitteredAndBounded) {
  std::mt19937 rng(7);
  for (uint32_t retry = 1; retry < 20; ++retry) {
    Millis b = retryBackoff(retry, rng);
    EXPECT_GE(b.count(), 0);
    EXPECT_LE(b.count(), 250);
  }
  bool varied = false;
  Millis first = retryBackoff(3, rng);
  for (int i = 0; i < 20; ++i)
    varied = varied || retryBackoff(3, rng) != first;
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace meshnode::proxy
