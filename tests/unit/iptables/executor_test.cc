#include "iptables/executor.h"

#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "iptables/capture_lock.h"

namespace meshnode::iptables {
namespace {

TEST(ProcessExecutor, FeedsStdinAndCollectsBothOutputs) {
  ProcessExecutor executor;
  std::string big(200000, 'x');
  auto result = executor.run({"sh", "-c", "cat; echo oops >&2; exit 3"}, big);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->out, big);
  EXPECT_EQ(result->err, "oops\n");
}

TEST(ProcessExecutor, AMissingProgramIsNotFound) {
  ProcessExecutor executor;
  auto result = executor.run({"meshnode-no-such-tool"}, "");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_NE(result.error().detail.find("meshnode-no-such-tool is not installed"),
            std::string::npos);
}

TEST(ProcessExecutor, AToolThatIgnoresItsInputDoesNotHang) {
  ProcessExecutor executor;
  auto result = executor.run({"true"}, std::string(1 << 20, 'y'));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 0);
}

TEST(CaptureLock, IsExclusiveAcrossProcesses) {
  std::string dir = ::testing::TempDir() + "capture-lock-" + std::to_string(::getpid());
  auto lock = CaptureLock::acquire(dir);
  ASSERT_TRUE(lock.ok()) << lock.error().describe();
  ProcessExecutor executor;
  // flock(1) from util-linux: -n fails at once when the lock is held.
  auto held = executor.run({"flock", "-n", dir + "/lock", "true"}, "");
  ASSERT_TRUE(held.ok());
  EXPECT_NE(held->exit_code, 0);
  { auto released = std::move(lock); }
  auto free = executor.run({"flock", "-n", dir + "/lock", "true"}, "");
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(free->exit_code, 0);
  ::unlink((dir + "/lock").c_str());
  ::rmdir(dir.c_str());
  EXPECT_FALSE(CaptureLock::acquire("/nonexistent-dir/deeper").ok());
}

}  // namespace
}  // namespace meshnode::iptables
