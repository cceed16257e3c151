#include "agent/dns/cache.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/dns/dns_test_util.h"

namespace meshnode::agent::dns {
namespace {

using namespace std::chrono_literals;
using testing::makeQuery;

std::vector<uint8_t> answer(const std::string& name, uint32_t ttl, uint8_t rcode) {
  auto wire = makeQuery(99, name, kTypeA);
  auto q = parseQuery(wire);
  std::vector<Record> records;
  if (rcode == kRcodeNoError) records.push_back(Record{kTypeA, ttl, {198, 18, 0, 1}});
  return buildReply(*q, wire, rcode, false, records);
}

uint32_t firstTtl(const std::vector<uint8_t>& wire) {
  auto info = parseResponse(wire);
  size_t off = info->ttl_offsets.at(0);
  return (uint32_t{wire[off]} << 24) | (uint32_t{wire[off + 1]} << 16) |
         (uint32_t{wire[off + 2]} << 8) | wire[off + 3];
}

TEST(ResponseCacheTest, ServesWithClientIdAndAgedTtl) {
  ResponseCache cache(5, 300);
  auto t0 = ResponseCache::Clock::now();
  Question q{"a.test", kTypeA, kClassIn};
  cache.store(q, answer("a.test", 100, kRcodeNoError), t0);
  auto hit = cache.find(q, 0xBEEF, t0 + 40s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(parseHeader(*hit)->id, 0xBEEF);
  EXPECT_EQ(firstTtl(*hit), 60u);
  EXPECT_FALSE(cache.find(q, 1, t0 + 101s));
  EXPECT_FALSE(cache.find(Question{"a.test", kTypeAaaa, kClassIn}, 1, t0));
}

TEST(ResponseCacheTest, TtlIsClampedToFloorAndCeiling) {
  ResponseCache cache(10, 60);
  auto t0 = ResponseCache::Clock::now();
  Question low{"low.test", kTypeA, kClassIn};
  Question high{"high.test", kTypeA, kClassIn};
  cache.store(low, answer("low.test", 1, kRcodeNoError), t0);
  cache.store(high, answer("high.test", 86400, kRcodeNoError), t0);
  EXPECT_TRUE(cache.find(low, 1, t0 + 9s));
  EXPECT_FALSE(cache.find(high, 1, t0 + 61s));
}

TEST(ResponseCacheTest, KeepsNxDomainButNotServFail) {
  ResponseCache cache(5, 300);
  auto t0 = ResponseCache::Clock::now();
  Question nx{"nx.test", kTypeA, kClassIn};
  Question sf{"sf.test", kTypeA, kClassIn};
  cache.store(nx, answer("nx.test", 0, kRcodeNxDomain), t0);
  cache.store(sf, answer("sf.test", 0, kRcodeServFail), t0);
  auto hit = cache.find(nx, 1, t0 + 1s);
  ASSERT_TRUE(hit);
  EXPECT_EQ(parseHeader(*hit)->rcode(), kRcodeNxDomain);
  EXPECT_FALSE(cache.find(sf, 1, t0));
}

TEST(ResponseCacheTest, BoundedInSize) {
  ResponseCache cache(5, 300, 8);
  auto t0 = ResponseCache::Clock::now();
  for (int i = 0; i < 50; ++i) {
    std::string name = "n" + std::to_string(i) + ".test";
    cache.store(Question{name, kTypeA, kClassIn}, answer(name, 100, kRcodeNoError), t0);
  }
  EXPECT_LE(cache.size(), 8u);
}

}  // namespace
}  // namespace meshnode::agent::dns
