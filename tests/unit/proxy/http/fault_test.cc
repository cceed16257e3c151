#include "proxy/http/fault.h"

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

TEST(FaultTest, FullPercentagesAlwaysApply) {
  FaultPolicy p;
  p.delay = Millis(50);
  p.delay_percent = 100;
  p.abort_status = 418;
  p.abort_percent = 100;
  std::mt19937 rng(1);
  auto d = decideFault(p, rng);
  EXPECT_EQ(d.delay, Millis(50));
  EXPECT_EQ(d.abort_status, 418);
}

TEST(FaultTest, ZeroPercentNeverApplies) {
  FaultPolicy p;
  p.delay = Millis(50);
  p.delay_percent = 0;
  p.abort_status = 503;
  p.abort_percent = 0;
  std::mt19937 rng(1);
  for (int i = 0; i < 1000; ++i) {
    auto d = decideFault(p, rng);
    EXPECT_EQ(d.delay.count(), 0);
    EXPECT_EQ(d.abort_status, 0);
  }
}

TEST(FaultTest, PercentagesHoldOverManyRequests) {
  FaultPolicy p;
  p.delay = Millis(5);
  p.delay_percent = 25;
  p.abort_status = 503;
  p.abort_percent = 2.5;  // fractional, as Istio's percentage.value allows
  std::mt19937 rng(42);
  int delayed = 0, aborted = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    auto d = decideFault(p, rng);
    delayed += d.delay.count() > 0;
    aborted += d.abort_status != 0;
  }
  EXPECT_NEAR(delayed * 100.0 / kN, 25, 1);
  EXPECT_NEAR(aborted * 100.0 / kN, 2.5, 0.3);
}

TEST(FaultTest, NoDelayWithoutDuration) {
  FaultPolicy p;
  p.delay_percent = 100;
  std::mt19937 rng(1);
  EXPECT_EQ(decideFault(p, rng).delay.count(), 0);
}

}  // namespace
}  // namespace meshnode::proxy
