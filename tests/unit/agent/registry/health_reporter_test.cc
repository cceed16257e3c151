#include "agent/registry/health_reporter.h"

#include <cstdlib>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/registry/file_registry.h"

namespace meshnode::agent {
namespace {

using namespace std::chrono_literals;

HealthCondition cond(bool healthy, std::string reason = "", std::string message = "") {
  HealthCondition c;
  c.healthy = healthy;
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

// A registry whose writes fail while `failing` is set, recording what reached it.
class FlakyRegistry : public Registry {
 public:
  bool failing = true;
  int attempts = 0;
  std::vector<HealthCondition> written;

  Status registerEntry(const WorkloadEntry&) override { return {}; }
  Status updateHealth(const std::string&, const std::string&, const HealthCondition& h) override {
    ++attempts;
    if (failing) return makeError(ErrorCode::kIo, Side::kUpstream, "unavailable", true);
    written.push_back(h);
    return {};
  }
  Status disconnect(const std::string&, const std::string&,
                    std::chrono::system_clock::time_point) override {
    return {};
  }
  Result<std::vector<WorkloadEntry>> list() override { return std::vector<WorkloadEntry>{}; }
  Result<std::unique_ptr<RegistryWatch>> watch(WatchCallback) override {
    return makeError(ErrorCode::kUnsupported, Side::kInternal, "no watch");
  }
};

TEST(HealthReporterTest, FailedWriteIsRetriedWithBackoffUntilItLands) {
  FlakyRegistry registry;
  HealthReporter reporter(registry, "bookinfo", "e", {100ms, 400ms});
  auto t0 = HealthReporter::Clock::time_point{} + 1h;
  reporter.report(cond(false, "Probe"), t0);
  EXPECT_EQ(registry.attempts, 1);
  EXPECT_TRUE(reporter.pending());
  EXPECT_EQ(reporter.nextAttempt(), t0 + 100ms);
  reporter.tick(t0 + 50ms);
  EXPECT_EQ(registry.attempts, 1);
  reporter.tick(t0 + 100ms);
  EXPECT_EQ(registry.attempts, 2);
  EXPECT_EQ(reporter.nextAttempt(), t0 + 300ms);  // doubled
  reporter.tick(t0 + 300ms);
  reporter.tick(t0 + 700ms);
  EXPECT_EQ(reporter.nextAttempt(), t0 + 1100ms);  // capped at 400 ms
  registry.failing = false;
  reporter.tick(t0 + 1100ms);
  EXPECT_FALSE(reporter.pending());
  ASSERT_EQ(registry.written.size(), 1u);
  EXPECT_FALSE(registry.written[0].healthy);
}

TEST(HealthReporterTest, NewerConditionReplacesOneStillWaiting) {
  FlakyRegistry registry;
  HealthReporter reporter(registry, "bookinfo", "e", {100ms, 400ms});
  auto t0 = HealthReporter::Clock::time_point{} + 1h;
  reporter.report(cond(false, "Probe"), t0);
  reporter.report(cond(true, "Probe"), t0 + 10ms);  // waits for the backoff
  EXPECT_EQ(registry.attempts, 1);
  registry.failing = false;
  reporter.tick(t0 + 100ms);
  ASSERT_EQ(registry.written.size(), 1u);
  EXPECT_TRUE(registry.written[0].healthy);
}

TEST(HealthReporterTest, FileRegistryConditionLandsOnceTheDirectoryReturns) {
  char tmpl[] = "/tmp/meshnode-reporter-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  FileRegistry registry(FileRegistryOptions{dir, 10s});
  WorkloadTemplate t;
  t.group = "g";
  t.name_space = "ns";
  WorkloadEntry e = makeEntry(t, "198.18.0.10", std::chrono::system_clock::now());
  ASSERT_TRUE(registry.registerEntry(e).ok());
  std::system(("rm -rf " + dir).c_str());

  HealthReporter reporter(registry, "ns", e.name, {100ms, 1s});
  auto t0 = HealthReporter::Clock::time_point{} + 1h;
  reporter.report(cond(false, "Probe", "connection refused"), t0);
  EXPECT_TRUE(reporter.pending());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  reporter.tick(t0 + 100ms);
  EXPECT_FALSE(reporter.pending());
  auto entries = registry.list();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  ASSERT_TRUE((*entries)[0].health);
  EXPECT_FALSE((*entries)[0].health->healthy);
  EXPECT_EQ((*entries)[0].health->message, "connection refused");
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace meshnode::agent
