#include "agent/supervisor/supervisor.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace meshnode::agent::supervisor {
namespace {

using namespace std::chrono_literals;
using Clock = ProxySupervisor::Clock;

SupervisorOptions shell(const std::string& script) {
  SupervisorOptions o;
  o.spawn.binary = "/bin/sh";
  o.spawn.args = {"-c", script};
  o.backoff.initial = 50ms;
  o.stop_timeout = 2s;
  return o;
}

// Drives reap() until the child has exited (the daemon does it on SIGCHLD).
bool reapWithin(ProxySupervisor& s, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (s.reap(Clock::now())) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::string tempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid())))
      .string();
}

TEST(ProxySupervisor, AMissingBinaryIsAnErrorNamingIt) {
  SupervisorOptions o;
  o.spawn.binary = "/nonexistent/meshnode-proxy";
  ProxySupervisor s(o);
  Status st = s.start(Clock::now());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().detail.find("proxy.binary /nonexistent/meshnode-proxy"), std::string::npos)
      << st.error().detail;
  EXPECT_NE(st.error().detail.find("No such file"), std::string::npos);
  EXPECT_FALSE(s.running());
}

TEST(ProxySupervisor, AKilledProxyIsRestartedAfterItsBackoff) {
  ProxySupervisor s(shell("exec sleep 30"));
  ASSERT_TRUE(s.start(Clock::now()).ok());
  pid_t first = s.pid();
  ::kill(first, SIGKILL);
  ASSERT_TRUE(reapWithin(s, 5s));
  EXPECT_EQ(s.lastExit(), "killed by signal 9 (Killed)");
  ASSERT_TRUE(s.nextRestart().has_value());
  s.tick(*s.nextRestart() - 1ms);
  EXPECT_FALSE(s.running()) << "restarted before its backoff";
  s.tick(*s.nextRestart());
  EXPECT_TRUE(s.running());
  EXPECT_NE(s.pid(), first);
  EXPECT_EQ(s.restarts(), 1u);
  EXPECT_EQ(s.generation(), 2u);
  EXPECT_EQ(s.stop().rfind("drained", 0), 0u);
}

TEST(ProxySupervisor, RepeatedCrashesAreReportedAsACrashLoop) {
  ProxySupervisor s(shell("exit 3"));
  ASSERT_TRUE(s.start(Clock::now()).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reapWithin(s, 5s));
    EXPECT_EQ(s.lastExit(), "exited with status 3");
    s.tick(*s.nextRestart());
  }
  EXPECT_TRUE(s.crashLooping(Clock::now()));
  s.stop();
}

TEST(ProxySupervisor, ReloadSendsSighupAndStopDrainsWithSigterm) {
  std::string marks = tempPath("supervisor-marks");
  std::filesystem::remove(marks);
  ProxySupervisor s(shell("trap 'echo hup >>" + marks + "' HUP; trap 'echo term >>" + marks +
                          "; exit 0' TERM; echo up >>" + marks + "; while :; do sleep 0.05; done"));
  ASSERT_TRUE(s.start(Clock::now()).ok());
  for (int i = 0; i < 100 && !std::filesystem::exists(marks); ++i)
    std::this_thread::sleep_for(20ms);
  s.reload();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(s.stop(), "drained, exited with status 0");
  std::ifstream in(marks);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "up\nhup\nterm\n");
  std::filesystem::remove(marks);
}

TEST(ProxySupervisor, TheChildDoesNotInheritNotifySocket) {
  std::string out = tempPath("supervisor-env");
  ::setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  SupervisorOptions o = shell("echo \"[${NOTIFY_SOCKET:-unset}]\" >" + out);
  o.spawn.unset_env = {"NOTIFY_SOCKET"};
  ProxySupervisor s(o);
  ASSERT_TRUE(s.start(Clock::now()).ok());
  ASSERT_TRUE(reapWithin(s, 5s));
  ::unsetenv("NOTIFY_SOCKET");
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "[unset]");
  std::filesystem::remove(out);
}

TEST(ProxySupervisor, DefaultEnvironmentIsGivenUnlessTheAgentHasItsOwn) {
  std::string out = tempPath("supervisor-default-env");
  ::unsetenv("MESHNODE_TEST_TUNABLE");
  SupervisorOptions o = shell("echo \"[${MESHNODE_TEST_TUNABLE:-unset}]\" >>" + out);
  o.spawn.default_env = {"MESHNODE_TEST_TUNABLE=from-agent"};
  {
    ProxySupervisor s(o);
    ASSERT_TRUE(s.start(Clock::now()).ok());
    ASSERT_TRUE(reapWithin(s, 5s));
  }
  ::setenv("MESHNODE_TEST_TUNABLE", "operator", 1);
  {
    ProxySupervisor s(o);
    ASSERT_TRUE(s.start(Clock::now()).ok());
    ASSERT_TRUE(reapWithin(s, 5s));
  }
  ::unsetenv("MESHNODE_TEST_TUNABLE");
  std::ifstream in(out);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  EXPECT_EQ(first, "[from-agent]");
  EXPECT_EQ(second, "[operator]");
  std::filesystem::remove(out);
}

TEST(LookupUser, AnUnknownUserNamesTheKey) {
  auto r = lookupUser("no-such-meshnode-user");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("proxy.user \"no-such-meshnode-user\""), std::string::npos);
  auto root = lookupUser("root");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->uid, 0u);
}

}  // namespace
}  // namespace meshnode::agent::supervisor
