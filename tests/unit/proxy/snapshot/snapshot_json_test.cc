#include "proxy/snapshot/snapshot_json.h"

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

constexpr const char* kGood = R"({
  "schema": 1,
  "version": "v7",
  "listeners": [{"name": "outbound", "direction": "outbound", "port": 15001}],
  "http_routes": [{"direction": "outbound", "port": 80, "virtual_hosts": [
    {"name": "web", "domains": ["web.example", "*.web.example"], "routes": [
      {"match": {"path": {"prefix": "/api"}, "headers": [{"name": "X-User", "exact": "a"}]},
       "clusters": [{"cluster": "web-v1", "weight": 90}, {"cluster": "web-v2", "weight": 10}],
       "timeout_ms": 1500}]}]}],
  "tcp_routes": [{"port": 5432, "destinations": ["198.18.0.0/24"], "cluster": "db"}],
  "clusters": [
    {"name": "web-v1", "protocol": "http2", "endpoints": [{"address": "198.18.0.2", "port": 80}]},
    {"name": "web-v2", "endpoints": [{"address": "2001:db8::2", "port": 80, "weight": 3}]},
    {"name": "db", "endpoints": [{"address": "198.18.0.3", "port": 5432}]}
  ]
})";

TEST(SnapshotJsonTest, ParsesEveryPart) {
  auto s = parseSnapshot(kGood, "good.json");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const Snapshot& snap = **s;
  EXPECT_EQ(snap.version, "v7");
  ASSERT_EQ(snap.listeners.size(), 1u);
  EXPECT_EQ(snap.listeners[0].port, 15001);
  ASSERT_EQ(snap.http_routes.size(), 1u);
  const Route& route = snap.http_routes[0].virtual_hosts[0].routes[0];
  EXPECT_EQ(route.clusters[1].weight, 10u);
  EXPECT_EQ(route.match.headers[0].name, "x-user");
  EXPECT_EQ(route.timeout.count(), 1500);
  EXPECT_EQ(snap.findCluster("web-v1")->protocol, UpstreamProtocol::kHttp2);
  EXPECT_EQ(snap.findCluster("web-v2")->endpoints[0].weight, 3u);
  EXPECT_EQ(snap.cluster_index.size(), 3u);
  EXPECT_EQ(snap.findCluster("db")->endpoints[0].port, 5432);
  EXPECT_EQ(snap.findCluster("web-v3"), nullptr);
  EXPECT_EQ(snap.tcp_routes[0].destinations[0].prefix, 24);
}

struct BadCase {
  const char* json;
  const char* expected;  // substring of the error
};

class SnapshotJsonBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(SnapshotJsonBadTest, NamesTheProblem) {
  auto s = parseSnapshot(GetParam().json, "bad.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find(GetParam().expected), std::string::npos) << s.error().detail;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SnapshotJsonBadTest,
    ::testing::Values(
        BadCase{"{\n\"schema\": 1,\n\"version\": }", "bad.json:3: invalid JSON"},
        BadCase{R"({"schema": 2, "version": "x"})", "$.schema: is 2"},
        BadCase{"{\"schema\": 1e999999}", "bad.json: invalid JSON"},
        BadCase{R"({"schema": 1})", "$.version: is required"},
        BadCase{R"({"schema": 1, "version": "x", "colour": 1})", "$.colour: unknown field"},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a", "endpoints":
                  [{"address": "example.com", "port": 80}]}]})",
                "$.clusters[0].endpoints[0].address: \"example.com\" is not a numeric"},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a", "endpoints":
                  [{"address": "198.18.0.1", "port": 70000}]}]})",
                "$.clusters[0].endpoints[0].port: must be between 1 and 65535"},
        BadCase{R"({"schema": 1, "version": "x", "tcp_routes": [{"cluster": "nope"}]})",
                "$.tcp_routes[0].cluster: no cluster named \"nope\""},
        BadCase{R"({"schema": 1, "version": "x", "http_routes": [{"virtual_hosts": [
                  {"domains": ["*"], "routes": [{"match": {"path": {"regex": "("}},
                  "direct_response": {"status": 200}}]}]}]})",
                "$.http_routes[0].virtual_hosts[0].routes[0].match.path.regex: invalid regular"},
        BadCase{R"({"schema": 1, "version": "x", "http_routes": [{"virtual_hosts": [
                  {"domains": ["*"], "routes": [{}]}]}]})",
                "routes[0]: needs exactly one of clusters, redirect, direct_response"},
        BadCase{R"({"schema": 1, "version": "x", "listeners": [
                  {"name": "a", "port": 15001}, {"name": "b", "port": 15001}]})",
                "$.listeners[1].port: 0.0.0.0:15001 is used twice"},
        BadCase{R"({"schema": 1, "version": "x", "listeners": [
                  {"name": "a", "port": 15001, "direction": "sideways"}]})",
                "$.listeners[0].direction: \"sideways\" is not one of: outbound, inbound"}));

TEST(SnapshotJsonTest, CidrContainment) {
  Cidr c;
  ASSERT_TRUE(parseCidr("198.18.0.0/15", &c));
  uint8_t in[4] = {198, 19, 3, 4}, out[4] = {198, 20, 0, 1};
  EXPECT_TRUE(cidrContains(c, false, in));
  EXPECT_FALSE(cidrContains(c, false, out));
  EXPECT_FALSE(parseCidr("198.18.0.0/33", &c));
  EXPECT_FALSE(parseCidr("nonsense", &c));
}

}  // namespace
}  // namespace meshnode::proxy
