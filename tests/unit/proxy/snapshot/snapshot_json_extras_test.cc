#include <gtest/gtest.h>

#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::proxy {
namespace {

constexpr const char* kExtras = R"({
  "schema": 1,
  "version": "x",
  "http_routes": [{"port": 80, "virtual_hosts": [{"domains": ["a"], "routes": [{
    "clusters": [{"cluster": "a"}],
    "retries": {"attempts": 3, "per_try_timeout_ms": 200, "retry_on": ["5xx", "reset"],
                "retriable_status_codes": [503]},
    "fault": {"delay_ms": 50, "delay_percent": 12.5, "abort_status": 503},
    "mirrors": [{"cluster": "b", "percent": 10}],
    "cors": {"allow_origins": [{"exact": "https://a.example"}], "allow_methods": ["GET"],
             "max_age_ms": 86400000, "allow_credentials": true}}]}]}],
  "tcp_routes": [{"port": 5432, "cluster": "a",
                  "weighted_clusters": [{"cluster": "a", "weight": 80}, {"cluster": "b", "weight": 20}]}],
  "clusters": [
    {"name": "a", "max_pending_requests": 10, "max_requests": 20, "max_retries": 3,
     "consistent_hash": {"cookie": "user", "cookie_ttl_ms": 1000},
     "outlier_detection": {"consecutive_5xx": 5, "interval_ms": 1000},
     "tls": {"mode": "istio_mutual", "sni": "outbound_.80_._.a"},
     "endpoints": [{"address": "198.18.0.1", "port": 80, "locality": "r/z", "network": "n1"}]},
    {"name": "b", "endpoints": [{"address": "198.18.0.2", "port": 80}]}
  ]
})";

TEST(SnapshotJsonExtrasTest, ReadsPolicies) {
  auto s = parseSnapshot(kExtras, "extras.json");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const Route& route = (*s)->http_routes[0].virtual_hosts[0].routes[0];
  ASSERT_TRUE(route.retries);
  EXPECT_EQ(route.retries->attempts, 3u);
  EXPECT_EQ(route.retries->per_try_timeout.count(), 200);
  EXPECT_EQ(route.retries->retry_on, (std::vector<std::string>{"5xx", "reset"}));
  EXPECT_EQ(route.retries->retriable_status_codes, (std::vector<uint16_t>{503}));
  ASSERT_TRUE(route.fault);
  EXPECT_DOUBLE_EQ(route.fault->delay_percent, 12.5);
  EXPECT_EQ(route.fault->abort_status, 503);
  EXPECT_DOUBLE_EQ(route.fault->abort_percent, 100);  // unset percentage means always
  ASSERT_EQ(route.mirrors.size(), 1u);
  EXPECT_DOUBLE_EQ(route.mirrors[0].percent, 10);
  ASSERT_TRUE(route.cors);
  EXPECT_EQ(route.cors->allow_origins[0].value, "https://a.example");
  EXPECT_EQ(route.cors->allow_credentials, true);
  const Cluster* a = (*s)->findCluster("a");
  EXPECT_EQ(a->max_pending_requests, 10u);
  EXPECT_EQ(a->max_requests, 20u);
  EXPECT_EQ(a->max_retries, 3u);
  ASSERT_TRUE(a->consistent_hash);
  EXPECT_EQ(a->consistent_hash->cookie, "user");
  ASSERT_TRUE(a->outlier_detection);
  EXPECT_EQ(a->outlier_detection->consecutive_5xx, 5u);
  EXPECT_EQ(a->outlier_detection->base_ejection_time.count(), 30000);
  EXPECT_EQ(a->tls.mode, TlsMode::kIstioMutual);
  EXPECT_EQ(a->endpoints[0].locality, "r/z");
  EXPECT_EQ((*s)->tcp_routes[0].weighted_clusters[1].weight, 20u);
  EXPECT_FALSE((*s)->findCluster("b")->consistent_hash);
}

struct BadCase {
  const char* json;
  const char* expected;
};

class SnapshotJsonExtrasBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(SnapshotJsonExtrasBadTest, NamesTheProblem) {
  auto s = parseSnapshot(GetParam().json, "bad.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find(GetParam().expected), std::string::npos) << s.error().detail;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SnapshotJsonExtrasBadTest,
    ::testing::Values(
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a",
                  "consistent_hash": {"header": "h", "source_ip": true}}]})",
                "$.clusters[0].consistent_hash: needs exactly one of"},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a",
                  "tls": {"mode": "strict"}}]})",
                "$.clusters[0].tls.mode: \"strict\" is not one of"},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a",
                  "outlier_detection": {"max_ejection_percent": 101}}]})",
                "$.clusters[0].outlier_detection.max_ejection_percent: must be between 0 and 100"},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a"}],
                  "http_routes": [{"virtual_hosts": [{"domains": ["*"], "routes": [
                  {"clusters": [{"cluster": "a"}], "fault": {"abort_status": 503,
                  "abort_percent": 150}}]}]}]})",
                "routes[0].fault.abort_percent: must be a number from 0 to 100"},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a"}],
                  "http_routes": [{"virtual_hosts": [{"domains": ["*"], "routes": [
                  {"clusters": [{"cluster": "a"}], "mirrors": [{"cluster": "m"}]}]}]}]})",
                "routes[0].mirrors: no cluster named \"m\""},
        BadCase{R"({"schema": 1, "version": "x", "clusters": [{"name": "a"}],
                  "tcp_routes": [{"cluster": "a", "weighted_clusters": [{"cluster": "z"}]}]})",
                "$.tcp_routes[0].weighted_clusters: no cluster named \"z\""}));

}  // namespace
}  // namespace meshnode::proxy
