#include "agent/systemd/notifier.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/systemd/watchdog.h"
#include "common/unique_fd.h"

namespace meshnode::agent {
namespace {

// Plays systemd's side: a unix datagram socket named by NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/meshnode-notify-test-XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path_.c_str());
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0);
    timeval tv{5, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  // The next datagram, or "" after five seconds of silence.
  std::string next() {
    char buf[4096];
    ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string dir_;
  std::string path_;
  UniqueFd fd_;
};

TEST(SystemdNotifierTest, MessagesReachTheNotifySocket) {
  NotifySocket socket;
  SystemdNotifier notifier;
  notifier.status("applying capture\nrules");
  notifier.ready();
  notifier.reloading();
  notifier.watchdog();
  notifier.stopping();
  EXPECT_EQ(socket.next(), "STATUS=applying capture rules");
  EXPECT_EQ(socket.next(), "READY=1");
  EXPECT_EQ(socket.next(), "RELOADING=1");
  EXPECT_EQ(socket.next(), "WATCHDOG=1");
  EXPECT_EQ(socket.next(), "STOPPING=1");
}

TEST(SystemdNotifierTest, WatchdogTimeoutOnlyForThisProcess) {
  SystemdNotifier notifier;
  ::setenv("WATCHDOG_USEC", "400000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(notifier.watchdogTimeout(), std::chrono::microseconds(400000));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_EQ(notifier.watchdogTimeout(), std::nullopt);
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_EQ(notifier.watchdogTimeout(), std::nullopt);
}

TEST(SystemdNotifierTest, WithoutNotifySocketNothingHappens) {
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  notifier.ready();
  notifier.status("x");
}

TEST(WatchdogPingerTest, PingsAtHalfTheTimeoutWhileAlive) {
  NotifySocket socket;
  SystemdNotifier notifier;
  std::atomic<bool> alive{true};
  WatchdogPinger pinger(notifier, std::chrono::milliseconds(200), [&] { return alive.load(); });
  EXPECT_EQ(pinger.interval(), std::chrono::milliseconds(100));
  EXPECT_EQ(socket.next(), "WATCHDOG=1");
  EXPECT_EQ(socket.next(), "WATCHDOG=1");
  EXPECT_EQ(socket.next(), "WATCHDOG=1");
}

// Records calls, to see what the pinger withholds.
class CountingNotifier : public Notifier {
 public:
  std::atomic<int> pings{0};
  void ready() override {}
  void reloading() override {}
  void status(std::string_view) override {}
  void watchdog() override { pings++; }
  void stopping() override {}
  std::optional<std::chrono::microseconds> watchdogTimeout() const override { return std::nullopt; }
};

TEST(WatchdogPingerTest, StuckAgentIsNotPinged) {
  CountingNotifier notifier;
  std::atomic<int> checks{0};
  {
    WatchdogPinger pinger(notifier, std::chrono::milliseconds(20), [&] {
      checks++;
      return false;
    });
    while (checks < 5)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(notifier.pings, 0);
}

}  // namespace
}  // namespace meshnode::agent
