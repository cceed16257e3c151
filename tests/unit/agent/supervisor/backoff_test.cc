#include "agent/supervisor/backoff.h"

#include <gtest/gtest.h>

namespace meshnode::agent::supervisor {
namespace {

using namespace std::chrono_literals;
using Clock = RestartBackoff::Clock;

TEST(RestartBackoff, DoublesOnQuickCrashesUpToTheCap) {
  RestartBackoff b({.initial = 100ms, .max = 500ms});
  Clock::time_point t{};
  EXPECT_EQ(b.onExit(t, t + 1s), 100ms);
  EXPECT_EQ(b.onExit(t + 1s, t + 2s), 200ms);
  EXPECT_EQ(b.onExit(t + 2s, t + 3s), 400ms);
  EXPECT_EQ(b.onExit(t + 3s, t + 4s), 500ms);
  EXPECT_EQ(b.onExit(t + 4s, t + 5s), 500ms);
  EXPECT_EQ(b.exits(), 5u);
}

TEST(RestartBackoff, ALongHealthyRunStartsOver) {
  RestartBackoff b({.initial = 100ms, .max = 10s, .stable = 10s});
  Clock::time_point t{};
  b.onExit(t, t + 1s);
  b.onExit(t + 1s, t + 2s);
  EXPECT_EQ(b.onExit(t + 2s, t + 30s), 100ms);
}

TEST(RestartBackoff, ThreeExitsInAMinuteIsACrashLoopThatEnds) {
  RestartBackoff b({.crash_loop_exits = 3, .window = 60s});
  Clock::time_point t{};
  b.onExit(t, t + 1s);
  b.onExit(t + 1s, t + 2s);
  EXPECT_FALSE(b.crashLooping(t + 2s));
  b.onExit(t + 2s, t + 3s);
  EXPECT_TRUE(b.crashLooping(t + 3s));
  EXPECT_FALSE(b.crashLooping(t + 2min));
}

}  // namespace
}  // namespace meshnode::agent::supervisor
