#include "proxy/upstream/outlier_detector.h"

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

using Clock = OutlierDetector::Clock;
using std::chrono::milliseconds;

Cluster cluster(size_t endpoints, OutlierDetection od) {
  Cluster c;
  c.name = "c";
  for (size_t i = 0; i < endpoints; ++i) {
    Endpoint e;
    e.address = "198.18.0." + std::to_string(i + 1);
    e.port = 80;
    c.endpoints.push_back(e);
  }
  c.outlier_detection = od;
  return c;
}

OutlierDetection fiveXx(uint32_t n) {
  OutlierDetection od;
  od.consecutive_5xx = n;
  od.interval = milliseconds(100);
  od.base_ejection_time = milliseconds(1000);
  od.max_ejection_percent = 100;
  return od;
}

TEST(OutlierDetectorTest, EjectsAfterConsecutive5xxAndReturnsAfterBaseTime) {
  auto c = cluster(3, fiveXx(3));
  OutlierDetector d;
  auto t = Clock::now();
  const Endpoint& bad = c.endpoints[0];
  EXPECT_FALSE(d.record(c, bad, 500, t));
  EXPECT_FALSE(d.record(c, bad, 0, t));  // no answer counts as a 5xx
  EXPECT_TRUE(d.record(c, bad, 503, t));
  EXPECT_TRUE(d.ejected(c, bad, t + milliseconds(10)));
  EXPECT_FALSE(d.ejected(c, c.endpoints[1], t));
  EXPECT_TRUE(d.ejected(c, bad, t + milliseconds(900)));
  // Returns at the first interval tick after base_ejection_time.
  EXPECT_FALSE(d.ejected(c, bad, t + milliseconds(1100)));
}

TEST(OutlierDetectorTest, SuccessResetsTheCount) {
  auto c = cluster(3, fiveXx(3));
  OutlierDetector d;
  auto t = Clock::now();
  const Endpoint& e = c.endpoints[0];
  d.record(c, e, 500, t);
  d.record(c, e, 500, t);
  d.record(c, e, 200, t);
  d.record(c, e, 500, t);
  EXPECT_FALSE(d.record(c, e, 500, t));
  EXPECT_FALSE(d.ejected(c, e, t));
}

TEST(OutlierDetectorTest, GatewayErrorsCountOnly502To504) {
  OutlierDetection od = fiveXx(0);
  od.consecutive_gateway_errors = 2;
  auto c = cluster(2, od);
  OutlierDetector d;
  auto t = Clock::now();
  const Endpoint& e = c.endpoints[0];
  d.record(c, e, 500, t);
  EXPECT_FALSE(d.record(c, e, 500, t));
  EXPECT_FALSE(d.record(c, e, 502, t));
  EXPECT_TRUE(d.record(c, e, 504, t));
}

TEST(OutlierDetectorTest, RepeatedEjectionsLastLonger) {
  auto c = cluster(2, fiveXx(1));
  OutlierDetector d;
  auto t = Clock::now();
  const Endpoint& e = c.endpoints[0];
  EXPECT_TRUE(d.record(c, e, 500, t));
  EXPECT_FALSE(d.ejected(c, e, t + milliseconds(1000)));
  auto t2 = t + milliseconds(1000);
  EXPECT_TRUE(d.record(c, e, 500, t2));
  // Second ejection: twice the base time.
  EXPECT_TRUE(d.ejected(c, e, t2 + milliseconds(1500)));
  EXPECT_FALSE(d.ejected(c, e, t2 + milliseconds(2100)));
}

TEST(OutlierDetectorTest, MaxEjectionPercentCapsEjectionsButOneAlwaysGoes) {
  OutlierDetection od = fiveXx(1);
  od.max_ejection_percent = 10;
  auto c = cluster(4, od);
  OutlierDetector d;
  auto t = Clock::now();
  EXPECT_TRUE(d.record(c, c.endpoints[0], 500, t));  // 10% of 4 is less than one: one anyway
  EXPECT_FALSE(d.record(c, c.endpoints[1], 500, t));
  EXPECT_EQ(d.ejectedCount(c, t), 1u);

  od.max_ejection_percent = 50;
  auto half = cluster(4, od);
  OutlierDetector e;
  EXPECT_TRUE(e.record(half, half.endpoints[0], 500, t));
  EXPECT_TRUE(e.record(half, half.endpoints[1], 500, t));
  EXPECT_FALSE(e.record(half, half.endpoints[2], 500, t));
}

TEST(OutlierDetectorTest, BelowMinHealthEveryEndpointServes) {
  OutlierDetection od = fiveXx(1);
  od.min_health_percent = 80;
  auto c = cluster(2, od);
  OutlierDetector d;
  auto t = Clock::now();
  EXPECT_TRUE(d.record(c, c.endpoints[0], 500, t));
  EXPECT_FALSE(d.ejected(c, c.endpoints[0], t));  // 50% healthy < 80%
}

TEST(OutlierDetectorTest, ClustersWithoutPolicyAreIgnored) {
  auto c = cluster(2, fiveXx(1));
  c.outlier_detection.reset();
  OutlierDetector d;
  auto t = Clock::now();
  EXPECT_FALSE(d.record(c, c.endpoints[0], 500, t));
  EXPECT_FALSE(d.ejected(c, c.endpoints[0], t));
}

}  // namespace
}  // namespace meshnode::proxy
