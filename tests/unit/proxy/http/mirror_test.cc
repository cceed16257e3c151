#include "proxy/http/mirror.h"

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

TEST(MirrorTest, ShadowSuffixGoesOnTheHost) {
  EXPECT_EQ(shadowAuthority("reviews.shop"), "reviews.shop-shadow");
  EXPECT_EQ(shadowAuthority("reviews.shop:9080"), "reviews.shop-shadow:9080");
  EXPECT_EQ(shadowAuthority("198.18.0.2:80"), "198.18.0.2-shadow:80");
  EXPECT_EQ(shadowAuthority("[2001:db8::1]:80"), "[2001:db8::1]-shadow:80");
}

}  // namespace
}  // namespace meshnode::proxy
