#include "agent/health/prober.h"

#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

namespace meshnode::agent {
namespace {

TEST(ProbeStateTest, UnknownUntilAThresholdIsMet) {
  ProbeState s(2, 3);
  EXPECT_EQ(s.observe(false), std::nullopt);
  EXPECT_EQ(s.observe(false), std::nullopt);
  EXPECT_EQ(s.healthy(), std::nullopt);
  EXPECT_EQ(s.observe(false), false);
  EXPECT_EQ(s.observe(false), std::nullopt);  // already unhealthy: no new transition
  EXPECT_EQ(s.observe(true), std::nullopt);
  EXPECT_EQ(s.observe(true), true);
}

TEST(ProbeStateTest, AnInterruptedRunStartsOver) {
  ProbeState s(1, 3);
  EXPECT_EQ(s.observe(true), true);
  EXPECT_EQ(s.observe(false), std::nullopt);
  EXPECT_EQ(s.observe(false), std::nullopt);
  EXPECT_EQ(s.observe(true), std::nullopt);  // resets the failure run
  EXPECT_EQ(s.observe(false), std::nullopt);
  EXPECT_EQ(s.observe(false), std::nullopt);
  EXPECT_EQ(s.observe(false), false);
  EXPECT_EQ(s.healthy(), false);
}

TEST(ProberTest, ReportsTransitionsFromScriptedResults) {
  // healthy, then two failures (threshold 2) make it unhealthy, then one success heals it.
  std::vector<bool> script = {true, false, false, true};
  std::mutex m;
  std::condition_variable cv;
  size_t calls = 0;
  std::vector<bool> transitions;
  Probe probe;
  probe.period_seconds = 1;
  probe.failure_threshold = 2;
  probe.action = TcpSocketAction{"127.0.0.1", 1};
  {
    Prober prober(
        probe,
        [&](const Probe&) {
          std::lock_guard lock(m);
          bool ok = script[std::min(calls, script.size() - 1)];
          ++calls;
          return ProbeOutcome{ok, ok ? "Up" : "Down", ""};
        },
        [&](const HealthTransition& t) {
          std::lock_guard lock(m);
          transitions.push_back(t.healthy);
          cv.notify_all();
        });
    std::unique_lock lock(m);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return transitions.size() == 3; }));
  }
  EXPECT_EQ(transitions, (std::vector<bool>{true, false, true}));
}

}  // namespace
}  // namespace meshnode::agent
