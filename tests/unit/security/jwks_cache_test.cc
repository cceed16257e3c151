#include "security/jwks_cache.h"

#include <gtest/gtest.h>

namespace meshnode::security {
namespace {

using std::chrono::seconds;

constexpr const char* kKeys =
    R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})";

TEST(JwksCache, FetchesThenRefreshesOnSchedule) {
  SystemTime t0 = SystemTime(seconds(1'000'000));
  JwksCache cache("https://issuer.example/jwks", {seconds(1200), seconds(1), seconds(300)});
  EXPECT_TRUE(cache.due(t0));
  EXPECT_EQ(cache.keys(), nullptr);
  ASSERT_TRUE(cache.onFetched(kKeys, t0).ok());
  ASSERT_NE(cache.keys(), nullptr);
  EXPECT_FALSE(cache.due(t0 + seconds(1199)));
  EXPECT_TRUE(cache.due(t0 + seconds(1200)));
}

TEST(JwksCache, FailedRefreshKeepsLastGoodKeysAndBacksOff) {
  SystemTime t = SystemTime(seconds(1'000'000));
  JwksCache cache("https://issuer.example/jwks", {seconds(1200), seconds(1), seconds(4)});
  ASSERT_TRUE(cache.onFetched(kKeys, t).ok());
  auto good = cache.keys();
  t += seconds(1200);
  auto bad = cache.onFetched("<html>502</html>", t);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("https://issuer.example/jwks"), std::string::npos);
  EXPECT_EQ(cache.keys(), good);
  EXPECT_EQ(cache.nextAttempt(), t + seconds(1));
  cache.onFetchFailed(makeError(ErrorCode::kTimeout, Side::kUpstream, "timeout"), t);
  EXPECT_EQ(cache.nextAttempt(), t + seconds(2));
  cache.onFetchFailed(makeError(ErrorCode::kTimeout, Side::kUpstream, "timeout"), t);
  EXPECT_EQ(cache.nextAttempt(), t + seconds(4));
  cache.onFetchFailed(makeError(ErrorCode::kTimeout, Side::kUpstream, "timeout"), t);
  EXPECT_EQ(cache.nextAttempt(), t + seconds(4));  // capped
  EXPECT_EQ(cache.keys(), good);
  ASSERT_TRUE(cache.onFetched(kKeys, t).ok());
  EXPECT_NE(cache.keys(), good);
  cache.onFetchFailed(makeError(ErrorCode::kTimeout, Side::kUpstream, "timeout"), t);
  EXPECT_EQ(cache.nextAttempt(), t + seconds(1));  // backoff reset by the success
}

}  // namespace
}  // namespace meshnode::security
