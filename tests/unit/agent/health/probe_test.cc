#include "agent/health/probe.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace meshnode::agent {
namespace {

using Json = nlohmann::json;

TEST(ProbeTest, HttpGetWithKubernetesDefaults) {
  auto p = parseProbe(Json::parse(R"({"httpGet": {"port": 8080}})"), "wg");
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->period_seconds, 10u);
  EXPECT_EQ(p->timeout_seconds, 1u);
  EXPECT_EQ(p->success_threshold, 1u);
  EXPECT_EQ(p->failure_threshold, 3u);
  EXPECT_EQ(p->initial_delay_seconds, 0u);
  const auto& h = std::get<HttpGetAction>(p->action);
  EXPECT_EQ(h.port, 8080);
  EXPECT_EQ(h.path, "/");
  EXPECT_EQ(h.host, "");
}

TEST(ProbeTest, EveryFieldIsRead) {
  auto p = parseProbe(Json::parse(R"({
    "initialDelaySeconds": 5, "periodSeconds": 2, "timeoutSeconds": 3,
    "successThreshold": 2, "failureThreshold": 4,
    "httpGet": {"host": "198.18.0.10", "port": 9080, "path": "/ready", "scheme": "HTTP",
                "httpHeaders": [{"name": "X-Probe", "value": "mesh"}]}})"),
                      "wg");
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->initial_delay_seconds, 5u);
  EXPECT_EQ(p->period_seconds, 2u);
  EXPECT_EQ(p->timeout_seconds, 3u);
  EXPECT_EQ(p->success_threshold, 2u);
  EXPECT_EQ(p->failure_threshold, 4u);
  const auto& h = std::get<HttpGetAction>(p->action);
  EXPECT_EQ(h.host, "198.18.0.10");
  EXPECT_EQ(h.path, "/ready");
  ASSERT_EQ(h.headers.size(), 1u);
  EXPECT_EQ(h.headers[0].first, "X-Probe");
}

TEST(ProbeTest, TcpAndExec) {
  auto tcp = parseProbe(Json::parse(R"({"tcpSocket": {"port": 5432}})"), "wg");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(std::get<TcpSocketAction>(tcp->action).port, 5432);
  auto exec = parseProbe(Json::parse(R"({"exec": {"command": ["pg_isready", "-q"]}})"), "wg");
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(std::get<ExecAction>(exec->action).command,
            (std::vector<std::string>{"pg_isready", "-q"}));
}

void expectError(const char* json, const std::string& fragment) {
  auto p =
      parseProbe(Json::parse(json), "ratings.yaml: WorkloadGroup bookinfo/ratings: spec.probe");
  ASSERT_FALSE(p.ok()) << json;
  EXPECT_NE(p.error().detail.find(fragment), std::string::npos) << p.error().detail;
  EXPECT_NE(p.error().detail.find("ratings.yaml: WorkloadGroup"), std::string::npos);
}

TEST(ProbeTest, BadProbesAreExplained) {
  expectError(R"({})", "exactly one of httpGet, tcpSocket and exec");
  expectError(R"({"httpGet": {"port": 1}, "tcpSocket": {"port": 2}})", "exactly one");
  expectError(R"({"httpGet": {}})", "spec.probe.httpGet.port: is required");
  expectError(R"({"httpGet": {"port": "http"}})", "httpGet.port: must be a port number");
  expectError(R"({"httpGet": {"port": 80, "scheme": "FTP"}})", "must be HTTP or HTTPS");
  expectError(R"({"httpGet": {"port": 80, "path": "ready"}})", "httpGet.path: must start");
  expectError(R"({"httpGet": {"port": 80, "httpHeaders": [{"name": "a\r\nb", "value": "x"}]}})",
              "httpHeaders[0]");
  expectError(R"({"tcpSocket": {"port": 0}})", "tcpSocket.port");
  expectError(R"({"exec": {"command": []}})", "exec.command");
  expectError(R"({"periodSeconds": 0, "tcpSocket": {"port": 1}})", "periodSeconds");
  expectError(R"({"failureThreshold": -1, "tcpSocket": {"port": 1}})", "failureThreshold");
  expectError(R"({"grpc": {"port": 1}})", "gRPC");
}

}  // namespace
}  // namespace meshnode::agent
