#include "common/result.h"

#include <gtest/gtest.h>

namespace meshnode {
namespace {

Result<int> half(int v) {
  if (v % 2) return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "odd", false);
  return v / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().describe(), "config invalid argument: odd");
}

TEST(ResultTest, DescribeSaysRetryable) {
  Error e = makeError(ErrorCode::kRefused, Side::kUpstream, "connect 198.18.0.2:80", true);
  EXPECT_EQ(e.describe(), "upstream refused: connect 198.18.0.2:80 (retryable)");
}

}  // namespace
}  // namespace meshnode
