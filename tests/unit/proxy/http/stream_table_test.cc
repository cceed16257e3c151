#include "proxy/http/http2/stream_table.h"

#include <string>

#include <gtest/gtest.h>

namespace meshnode::proxy::http2 {
namespace {

TEST(StreamTableTest, FindsAddsAndRemovesById) {
  StreamTable<std::string> t;
  t.add(1, std::make_shared<std::string>("one"));
  t.add(5, std::make_shared<std::string>("five"));
  t.add(3, std::make_shared<std::string>("three"));  // out of order still lands in place
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(*t.find(3), "three");
  EXPECT_EQ(*t.at(5), "five");
  EXPECT_EQ(t.find(4), nullptr);
  EXPECT_EQ(t.find(7), nullptr);

  t.add(3, std::make_shared<std::string>("three again"));
  EXPECT_EQ(*t.find(3), "three again");
  EXPECT_EQ(t.size(), 3u);

  EXPECT_EQ(*t.remove(1), "one");
  EXPECT_EQ(t.remove(1), nullptr);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_EQ(*t.find(5), "five");

  int ids = 0;
  for (const auto& [id, s] : t)
    ids = ids * 10 + id;
  EXPECT_EQ(ids, 35);

  auto all = t.takeAll();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.find(3), nullptr);
}

}  // namespace
}  // namespace meshnode::proxy::http2
