#include "proxy/upstream/hash_ring.h"

#include <map>

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

std::vector<Endpoint> endpoints(int n, uint32_t first_weight = 1) {
  std::vector<Endpoint> eps;
  for (int i = 0; i < n; ++i) {
    Endpoint e;
    e.address = "198.18.1." + std::to_string(i + 1);
    e.port = 8080;
    e.weight = i == 0 ? first_weight : 1;
    eps.push_back(e);
  }
  return eps;
}

const auto kAny = [](size_t) { return true; };

TEST(HashRingTest, SameKeySameEndpoint) {
  HashRing ring(endpoints(5), 1024);
  EXPECT_GE(ring.points(), 1024u);
  for (int k = 0; k < 100; ++k) {
    uint64_t h = stableHash("user-" + std::to_string(k));
    EXPECT_EQ(ring.pick(h, kAny), ring.pick(h, kAny));
  }
}

TEST(HashRingTest, KeysSpreadByWeight) {
  HashRing ring(endpoints(4, 3), 4096);  // weights 3,1,1,1
  std::map<size_t, int> hits;
  constexpr int kN = 60000;
  for (int k = 0; k < kN; ++k)
    ++hits[*ring.pick(stableHash("k" + std::to_string(k)), kAny)];
  EXPECT_NEAR(hits[0] * 1.0 / kN, 0.5, 0.06);
  for (size_t i = 1; i < 4; ++i)
    EXPECT_NEAR(hits[i] * 1.0 / kN, 1.0 / 6, 0.04);
}

TEST(HashRingTest, RemovingAnEndpointMovesOnlyItsKeys) {
  auto all = endpoints(5);
  auto fewer = all;
  fewer.pop_back();
  HashRing before(all, 2048), after(fewer, 2048);
  int moved = 0, owned_by_removed = 0;
  for (int k = 0; k < 10000; ++k) {
    uint64_t h = stableHash("session" + std::to_string(k));
    size_t a = *before.pick(h, kAny);
    size_t b = *after.pick(h, kAny);
    if (a == 4)
      ++owned_by_removed;
    else if (a != b)
      ++moved;
  }
  EXPECT_GT(owned_by_removed, 0);
  EXPECT_LT(moved, 300);  // ring points of the others stay where they were
}

TEST(HashRingTest, UnusableEndpointsAreSkipped) {
  HashRing ring(endpoints(3), 256);
  uint64_t h = stableHash("x");
  size_t owner = *ring.pick(h, kAny);
  auto other = ring.pick(h, [&](size_t i) { return i != owner; });
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other, owner);
  EXPECT_FALSE(ring.pick(h, [](size_t) { return false; }).has_value());
}

RequestHead request(std::string path, HeaderList headers) {
  RequestHead r;
  r.method = "GET";
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

TEST(HashRingTest, RequestKeys) {
  ConsistentHash by_header;
  by_header.header = "X-User";
  auto r = request("/", {{"x-user", "alice"}});
  EXPECT_EQ(requestHashKey(by_header, r, "198.18.0.1"), stableHash("alice"));
  EXPECT_FALSE(requestHashKey(by_header, request("/", {}), "198.18.0.1"));

  ConsistentHash by_cookie;
  by_cookie.cookie = "session";
  EXPECT_EQ(requestHashKey(by_cookie, request("/", {{"cookie", "a=1; session=s42; b=2"}}), ""),
            stableHash("s42"));
  EXPECT_FALSE(requestHashKey(by_cookie, request("/", {{"cookie", "sessionx=1"}}), ""));

  ConsistentHash by_ip;
  by_ip.source_ip = true;
  EXPECT_EQ(requestHashKey(by_ip, r, "198.18.0.9"), stableHash("198.18.0.9"));

  ConsistentHash by_query;
  by_query.query_parameter = "tenant";
  EXPECT_EQ(requestHashKey(by_query, request("/p?x=1&tenant=blue", {}), ""), stableHash("blue"));
  EXPECT_FALSE(requestHashKey(by_query, request("/p?x=1", {}), ""));
}

}  // namespace
}  // namespace meshnode::proxy
