#include "proxy/http/request_id.h"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

TEST(RequestIdTest, IsAVersion4UuidAndDiffersEachTime) {
  std::mt19937 rng(7);
  const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = requestId(rng);
    EXPECT_TRUE(std::regex_match(id, uuid4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace meshnode::proxy
