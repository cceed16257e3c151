#include "proxy/upstream/load_balancer.h"

#include <map>

#include <gtest/gtest.h>

#include "proxy/upstream/circuit_breaker.h"

namespace meshnode::proxy {
namespace {

Cluster cluster(int n, LbPolicy policy) {
  Cluster c;
  c.name = "lb";
  c.lb_policy = policy;
  for (int i = 0; i < n; ++i) {
    Endpoint e;
    e.address = "198.18.2." + std::to_string(i + 1);
    e.port = 80;
    c.endpoints.push_back(e);
  }
  return c;
}

TEST(LoadBalancerTest, RoundRobinCyclesByWeight) {
  auto c = cluster(2, LbPolicy::kRoundRobin);
  c.endpoints[0].weight = 2;
  LoadBalancer lb;
  std::string seq;
  for (int i = 0; i < 6; ++i)
    seq += lb.pick(c) == &c.endpoints[0] ? "a" : "b";
  EXPECT_EQ(seq, "aabaab");
}

TEST(LoadBalancerTest, LeastRequestAvoidsTheBusyEndpoint) {
  auto c = cluster(2, LbPolicy::kLeastRequest);
  LoadBalancer lb;
  std::vector<LoadBalancer::ActiveRequest> busy;
  for (int i = 0; i < 10; ++i)
    busy.push_back(lb.track(c, c.endpoints[0]));
  EXPECT_EQ(lb.activeRequests(c, c.endpoints[0]), 10u);
  int to_busy = 0;
  for (int i = 0; i < 1000; ++i)
    to_busy += lb.pick(c) == &c.endpoints[0];
  // Only when both random choices land on the busy endpoint (about a quarter of the time).
  EXPECT_LT(to_busy, 350);
  EXPECT_GT(to_busy, 150);
  busy.clear();
  EXPECT_EQ(lb.activeRequests(c, c.endpoints[0]), 0u);
}

TEST(LoadBalancerTest, EjectedEndpointsAreNotPicked) {
  auto c = cluster(2, LbPolicy::kRoundRobin);
  OutlierDetection od;
  od.consecutive_5xx = 1;
  od.max_ejection_percent = 100;
  c.outlier_detection = od;
  LoadBalancer lb;
  auto now = LoadBalancer::Clock::now();
  lb.outliers().record(c, c.endpoints[1], 503, now);
  LoadBalancer::PickOptions opts;
  opts.now = now;
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(lb.pick(c, opts), &c.endpoints[0]);
  lb.outliers().record(c, c.endpoints[0], 503, now);
  EXPECT_EQ(lb.pick(c, opts), nullptr);  // all ejected: no healthy upstream
}

TEST(LoadBalancerTest, RetriesPreferAnotherEndpoint) {
  auto c = cluster(3, LbPolicy::kRandom);
  LoadBalancer lb;
  LoadBalancer::PickOptions opts;
  opts.avoid = {&c.endpoints[0], &c.endpoints[1]};
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(lb.pick(c, opts), &c.endpoints[2]);
  opts.avoid.push_back(&c.endpoints[2]);
  EXPECT_NE(lb.pick(c, opts), nullptr);  // all tried: any will do
}

TEST(LoadBalancerTest, ConsistentHashSticksAndFallsBackToRandom) {
  auto c = cluster(4, LbPolicy::kRoundRobin);
  c.consistent_hash = ConsistentHash{};
  c.consistent_hash->header = "x-user";
  LoadBalancer lb;
  LoadBalancer::PickOptions opts;
  opts.hash = stableHash("alice");
  const Endpoint* first = lb.pick(c, opts);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(lb.pick(c, opts), first);
  std::map<const Endpoint*, int> seen;
  for (int i = 0; i < 200; ++i)
    ++seen[lb.pick(c)];
  EXPECT_GT(seen.size(), 1u);
}

TEST(CircuitBreakersTest, LimitsHoldUntilSlotsAreReleased) {
  Cluster c;
  c.name = "cb";
  c.max_requests = 2;
  c.max_retries = 1;
  CircuitBreakers cb;
  auto a = cb.tryRequest(c);
  auto b = cb.tryRequest(c);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(cb.tryRequest(c));
  a.reset();
  EXPECT_TRUE(cb.tryRequest(c));
  auto r = cb.tryRetry(c);
  EXPECT_TRUE(r);
  EXPECT_FALSE(cb.tryRetry(c));
  c.max_pending_requests = 0;  // unlimited
  std::vector<CircuitBreakers::Slot> many;
  for (int i = 0; i < 100; ++i)
    many.push_back(std::move(*cb.tryPending(c)));
  EXPECT_TRUE(cb.tryPending(c));
}

}  // namespace
}  // namespace meshnode::proxy
