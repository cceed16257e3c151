#include "agent/health/probe_runner.h"

#include <atomic>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "common/unique_fd.h"

namespace meshnode::agent {
namespace {

// An HTTP/1.1 server on loopback that answers every request with `status`, or, when `stall`,
// accepts and never answers. It records the last request.
class TinyHttpServer {
 public:
  TinyHttpServer(int status, bool stall = false) : status_(status), stall_(stall) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    ::listen(fd_.get(), 8);
    socklen_t len = sizeof(sin);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string lastRequest() {
    std::lock_guard lock(mutex_);
    return last_request_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      UniqueFd c(::accept(fd_.get(), nullptr, nullptr));
      std::string req;
      char buf[2048];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c.get(), buf, sizeof(buf), 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard lock(mutex_);
        last_request_ = req;
      }
      if (stall_) {
        while (!stop_)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return;
      }
      std::string resp = "HTTP/1.1 " + std::to_string(status_) +
                         " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(c.get(), resp.data(), resp.size(), MSG_NOSIGNAL);
    }
  }

  int status_;
  bool stall_;
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string last_request_;
  std::thread thread_;
};

uint16_t closedPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  socklen_t len = sizeof(sin);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  return ntohs(sin.sin_port);  // bound, never listening: connections are refused
}

Probe httpProbe(uint16_t port, std::string path = "/healthz") {
  Probe p;
  HttpGetAction a;
  a.port = port;
  a.path = std::move(path);
  a.headers = {{"X-Probe", "mesh"}};
  p.action = a;
  return p;
}

TEST(ProbeRunnerTest, HttpSuccessSendsPathAndHeaders) {
  TinyHttpServer server(204);
  ProbeOutcome o = runProbeOnce(httpProbe(server.port()), "127.0.0.1");
  EXPECT_TRUE(o.success) << o.message;
  EXPECT_EQ(o.reason, "HTTPGetSucceeded");
  std::string req = server.lastRequest();
  EXPECT_EQ(req.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nX-Probe: mesh\r\n"), std::string::npos) << req;
}

TEST(ProbeRunnerTest, RedirectCountsAsSuccessServerErrorAsFailure) {
  TinyHttpServer redirect(302);
  EXPECT_TRUE(runProbeOnce(httpProbe(redirect.port()), "127.0.0.1").success);
  TinyHttpServer broken(503);
  ProbeOutcome o = runProbeOnce(httpProbe(broken.port()), "127.0.0.1");
  EXPECT_FALSE(o.success);
  EXPECT_NE(o.message.find("status 503"), std::string::npos) << o.message;
}

TEST(ProbeRunnerTest, HttpClosedPortAndStallFail) {
  ProbeOutcome refused = runProbeOnce(httpProbe(closedPort()), "127.0.0.1");
  EXPECT_FALSE(refused.success);
  EXPECT_NE(refused.message.find("refused"), std::string::npos) << refused.message;
  TinyHttpServer stall(200, true);
  ProbeOutcome timeout = runProbeOnce(httpProbe(stall.port()), "127.0.0.1");
  EXPECT_FALSE(timeout.success);
  EXPECT_NE(timeout.message.find("timed out"), std::string::npos) << timeout.message;
}

TEST(ProbeRunnerTest, TcpOpenAndClosedPorts) {
  TinyHttpServer server(200);
  Probe p;
  p.action = TcpSocketAction{"", server.port()};
  EXPECT_TRUE(runProbeOnce(p, "127.0.0.1").success);
  p.action = TcpSocketAction{"127.0.0.1", closedPort()};
  ProbeOutcome o = runProbeOnce(p, "198.18.0.1");
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.reason, "TCPFailed");
}

TEST(ProbeRunnerTest, ExecExitCodeAndTimeout) {
  Probe p;
  p.action = ExecAction{{"true"}};
  EXPECT_TRUE(runProbeOnce(p, "").success);
  p.action = ExecAction{{"sh", "-c", "exit 3"}};
  ProbeOutcome failed = runProbeOnce(p, "");
  EXPECT_FALSE(failed.success);
  EXPECT_NE(failed.message.find("exited 3"), std::string::npos) << failed.message;
  p.action = ExecAction{{"sleep", "5"}};
  ProbeOutcome slow = runProbeOnce(p, "");
  EXPECT_FALSE(slow.success);
  EXPECT_NE(slow.message.find("timed out"), std::string::npos);
  p.action = ExecAction{{"/nonexistent/meshnode-probe"}};
  EXPECT_FALSE(runProbeOnce(p, "").success);
}

}  // namespace
}  // namespace meshnode::agent
