#include "proxy/router/router.h"

#include <gtest/gtest.h>

#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::proxy {
namespace {

SnapshotPtr load(const char* json) {
  auto s = parseSnapshot(json, "router_test.json");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return s.ok() ? *s : nullptr;
}

constexpr const char* kTable = R"({"schema": 1, "version": "r",
  "http_routes": [{"port": 80, "virtual_hosts": [
    {"name": "exact", "domains": ["web.example", "web.example:80"], "routes": [
      {"name": "api", "match": {"path": {"prefix": "/api"}, "headers": [
        {"name": "x-user", "exact": "tester"}]}, "direct_response": {"status": 200}},
      {"name": "regex", "match": {"path": {"regex": "/items/[0-9]+"}}, "direct_response": {"status": 201}},
      {"name": "nocase", "match": {"path": {"exact": "/Login", "ignore_case": true}}, "direct_response": {"status": 202}},
      {"name": "absent", "match": {"headers": [{"name": "x-debug", "absent": true}],
        "query_params": [{"name": "v", "exact": "2"}]}, "direct_response": {"status": 203}},
      {"name": "method", "match": {"headers": [{"name": ":method", "exact": "DELETE"}]}, "direct_response": {"status": 204}},
      {"name": "fallback", "direct_response": {"status": 299}}]},
    {"name": "suffix", "domains": ["*.example"], "routes": [{"direct_response": {"status": 200}}]},
    {"name": "longer-suffix", "domains": ["*.web.example"], "routes": [{"direct_response": {"status": 200}}]},
    {"name": "prefix", "domains": ["api.*"], "routes": [{"direct_response": {"status": 200}}]},
    {"name": "any", "domains": ["*"], "routes": [{"direct_response": {"status": 200}}]}]},
   {"port": 0, "virtual_hosts": [{"name": "port-any", "domains": ["*"], "routes": [{"direct_response": {"status": 200}}]}]},
   {"direction": "inbound", "port": 80, "virtual_hosts": [{"name": "in", "domains": ["*"], "routes": [{"direct_response": {"status": 200}}]}]}]})";

TEST(RouterTest, TableByPortThenAnyPort) {
  auto snap = load(kTable);
  EXPECT_EQ(findRouteTable(*snap, Direction::kOutbound, 80)->port, 80);
  EXPECT_EQ(findRouteTable(*snap, Direction::kOutbound, 9090)->port, 0);
  EXPECT_EQ(findRouteTable(*snap, Direction::kInbound, 80)->virtual_hosts[0].name, "in");
  EXPECT_EQ(findRouteTable(*snap, Direction::kInbound, 81), nullptr);
}

TEST(RouterTest, VirtualHostPrecedence) {
  auto snap = load(kTable);
  const auto& table = *findRouteTable(*snap, Direction::kOutbound, 80);
  EXPECT_EQ(selectVirtualHost(table, "web.example")->name, "exact");
  EXPECT_EQ(selectVirtualHost(table, "WEB.example:80")->name, "exact");
  EXPECT_EQ(selectVirtualHost(table, "web.example:8080")->name, "exact");  // port dropped
  EXPECT_EQ(selectVirtualHost(table, "a.web.example")->name, "longer-suffix");
  EXPECT_EQ(selectVirtualHost(table, "b.example")->name, "suffix");
  EXPECT_EQ(selectVirtualHost(table, "api.internal")->name, "prefix");
  EXPECT_EQ(selectVirtualHost(table, "198.18.0.7")->name, "any");
}

int routeStatus(const SnapshotPtr& snap, RequestHead req) {
  const auto& vh = findRouteTable(*snap, Direction::kOutbound, 80)->virtual_hosts[0];
  const Route* r = selectRoute(vh, req);
  return r ? r->direct_response->status : 0;
}

TEST(RouterTest, MatchesInOrder) {
  auto snap = load(kTable);
  RequestHead get;
  get.method = "GET";
  get.authority = "web.example";
  get.path = "/api/v1";
  get.headers = {{"x-user", "tester"}, {"x-debug", "1"}};
  EXPECT_EQ(routeStatus(snap, get), 200);
  get.headers = {{"x-user", "other"}, {"x-debug", "1"}};
  EXPECT_EQ(routeStatus(snap, get), 299);
  get.path = "/items/42";
  EXPECT_EQ(routeStatus(snap, get), 201);
  get.path = "/items/42/x";
  EXPECT_EQ(routeStatus(snap, get), 299);  // regex must match the whole path
  get.path = "/LOGIN?next=/";
  EXPECT_EQ(routeStatus(snap, get), 202);
  get.path = "/q?a=1&v=2";
  EXPECT_EQ(routeStatus(snap, get), 299);  // x-debug is present
  get.headers.clear();
  EXPECT_EQ(routeStatus(snap, get), 203);
  get.path = "/q?v=3";
  EXPECT_EQ(routeStatus(snap, get), 299);
  get.method = "DELETE";
  EXPECT_EQ(routeStatus(snap, get), 204);
}

TEST(RouterTest, WeightedClustersFollowWeights) {
  Route route;
  route.clusters = {{"a", 90}, {"b", 10}};
  std::mt19937 rng(7);
  int a = 0;
  for (int i = 0; i < 10000; ++i)
    a += pickCluster(route, rng) == "a";
  EXPECT_NEAR(a, 9000, 300);
  route.clusters = {{"only", 0}, {"never", 0}};
  EXPECT_EQ(pickCluster(route, rng), "only");
}

TEST(RouterTest, TcpRoutesBySniAndDestination) {
  auto snap = load(R"({"schema": 1, "version": "t",
    "tcp_routes": [
      {"port": 443, "sni": ["*.mesh.example"], "cluster": "tls"},
      {"port": 5432, "destinations": ["198.18.5.0/24"], "cluster": "db"}],
    "clusters": [{"name": "tls"}, {"name": "db"}]})");
  std::string sni = "pay.mesh.example";
  uint8_t in[4] = {198, 18, 5, 9}, out[4] = {198, 18, 6, 9};
  EXPECT_EQ(findTcpRoute(*snap, Direction::kOutbound, 443, false, in, &sni)->cluster, "tls");
  std::string other = "pay.elsewhere";
  EXPECT_EQ(findTcpRoute(*snap, Direction::kOutbound, 443, false, in, &other), nullptr);
  EXPECT_EQ(findTcpRoute(*snap, Direction::kOutbound, 443, false, in, nullptr), nullptr);
  EXPECT_EQ(findTcpRoute(*snap, Direction::kOutbound, 5432, false, in, nullptr)->cluster, "db");
  EXPECT_EQ(findTcpRoute(*snap, Direction::kOutbound, 5432, false, out, nullptr), nullptr);
}

}  // namespace
}  // namespace meshnode::proxy
