#include "agent/status/status_server.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "agent/status/http_get.h"
#include "agent/status/metrics.h"

namespace meshnode::agent::status {
namespace {

using namespace std::chrono_literals;

// Runs the server's loop on this thread until the client (on another) has its reply.
Result<HttpReply> get(StatusServer& server, const std::string& path) {
  auto reply =
      std::async(std::launch::async, [&] { return httpGet("127.0.0.1", server.port(), path, 2s); });
  while (reply.wait_for(0ms) != std::future_status::ready) {
    auto fds = server.pollFds();
    ::poll(fds.data(), fds.size(), 10);
    server.process(fds, StatusServer::Clock::now());
  }
  return reply.get();
}

TEST(StatusServer, AnswersThroughItsHandlerAndNamesUnknownPaths) {
  auto server = StatusServer::start("127.0.0.1", 0, [](const std::string& path) {
    if (path == "/healthz/ready") return StatusResponse{200, "text/plain", "ready\n"};
    return StatusResponse{404, "text/plain", "no " + path + "\n"};
  });
  ASSERT_TRUE(server.ok()) << server.error().detail;
  auto ready = get(**server, "/healthz/ready?verbose=1");
  ASSERT_TRUE(ready.ok()) << ready.error().detail;
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");
  auto missing = get(**server, "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "no /nope\n");
}

TEST(StatusServer, ATakenPortIsAnErrorNamingIt) {
  auto first =
      StatusServer::start("127.0.0.1", 0, [](const std::string&) { return StatusResponse{}; });
  ASSERT_TRUE(first.ok());
  auto second = StatusServer::start("127.0.0.1", (*first)->port(),
                                    [](const std::string&) { return StatusResponse{}; });
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().detail.find("127.0.0.1:" + std::to_string((*first)->port())),
            std::string::npos);
}

TEST(HttpGet, ARefusedPeerIsARetryableErrorNamingIt) {
  auto server =
      StatusServer::start("127.0.0.1", 0, [](const std::string&) { return StatusResponse{}; });
  uint16_t port = (*server)->port();
  server->reset();
  auto r = httpGet("127.0.0.1", port, "/ready", 500ms);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().detail.find("127.0.0.1:" + std::to_string(port) + "/ready"),
            std::string::npos);
}

TEST(Metrics, RenderRestartsCrashLoopAndVersionInPrometheusText) {
  AgentMetrics m;
  m.proxy_restarts = 2;
  m.proxy_crash_looping = true;
  m.snapshot_version = "abc123";
  std::string text = renderMetrics(m);
  EXPECT_NE(text.find("\nmeshnode_agent_proxy_restarts_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nmeshnode_agent_proxy_crash_looping 1\n"), std::string::npos);
  EXPECT_NE(text.find("meshnode_agent_snapshot_info{version=\"abc123\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE meshnode_agent_proxy_restarts_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace meshnode::agent::status
