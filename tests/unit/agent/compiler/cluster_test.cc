#include <gtest/gtest.h>

#include "tests/unit/agent/compiler/compile_helpers.h"

namespace meshnode::compiler::testing {
namespace {

const std::string kCluster = "outbound|9080||reviews.shop.svc.cluster.local";

std::string withDr(const std::string& spec) {
  return std::string(kReviews) +
         "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
         "metadata: {name: reviews, namespace: shop}\nspec:\n  host: reviews\n" +
         spec;
}

TEST(ClusterTest, DefaultsFollowIstiod) {
  auto c = compile(kReviews);
  const json& cl = c.cluster(kCluster);
  EXPECT_EQ(cl["lb_policy"], "least_request");
  EXPECT_EQ(cl["connect_timeout_ms"], 10000);
  EXPECT_EQ(cl["protocol"], "http1");
  EXPECT_EQ(cl["type"], "static");
  EXPECT_EQ(cl["endpoints"].size(), 3u);
  EXPECT_FALSE(cl.contains("outlier_detection"));
  EXPECT_FALSE(cl.contains("tls"));
}

struct LbCase {
  const char* policy_yaml;
  const char* field;
  const char* expected;
};

class LoadBalancerTest : public ::testing::TestWithParam<LbCase> {};

TEST_P(LoadBalancerTest, Compiles) {
  auto c = compile(
      withDr(std::string("  trafficPolicy:\n    loadBalancer: ") + GetParam().policy_yaml + "\n"));
  EXPECT_EQ(c.cluster(kCluster)[GetParam().field], json::parse(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Policies, LoadBalancerTest,
    ::testing::Values(LbCase{"{simple: ROUND_ROBIN}", "lb_policy", R"("round_robin")"},
                      LbCase{"{simple: LEAST_REQUEST}", "lb_policy", R"("least_request")"},
                      LbCase{"{simple: LEAST_CONN}", "lb_policy", R"("least_request")"},
                      LbCase{"{simple: RANDOM}", "lb_policy", R"("random")"},
                      LbCase{"{simple: PASSTHROUGH}", "type", R"("original_dst")"},
                      LbCase{"{consistentHash: {httpHeaderName: x-user}}", "consistent_hash",
                             R"({"header": "x-user"})"},
                      LbCase{"{consistentHash: {httpCookie: {name: s, path: /, ttl: 30s}}}",
                             "consistent_hash",
                             R"({"cookie": "s", "cookie_path": "/", "cookie_ttl_ms": 30000})"},
                      LbCase{"{consistentHash: {useSourceIp: true}}", "consistent_hash",
                             R"({"source_ip": true})"},
                      LbCase{"{consistentHash: {httpQueryParameterName: u, minimumRingSize: 4096}}",
                             "consistent_hash",
                             R"({"query_parameter": "u", "minimum_ring_size": 4096})"}));

TEST(ClusterTest, ConnectionPoolLimits) {
  auto c = compile(withDr(R"(  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 3, connectTimeout: 250ms}
      http: {http1MaxPendingRequests: 1, http2MaxRequests: 10, maxRequestsPerConnection: 2,
             maxRetries: 4, idleTimeout: 15s, maxConcurrentStreams: 8}
)"));
  const json& cl = c.cluster(kCluster);
  EXPECT_EQ(cl["max_connections"], 3);
  EXPECT_EQ(cl["connect_timeout_ms"], 250);
  EXPECT_EQ(cl["max_pending_requests"], 1);
  EXPECT_EQ(cl["max_requests"], 10);
  EXPECT_EQ(cl["max_requests_per_connection"], 2);
  EXPECT_EQ(cl["max_retries"], 4);
  EXPECT_EQ(cl["idle_timeout_ms"], 15000);
  EXPECT_EQ(cl["max_concurrent_streams"], 8);
}

TEST(ClusterTest, OutlierDetectionUsesEnvoysDefaultsForUnsetFields) {
  auto c = compile(withDr(R"(  trafficPolicy:
    outlierDetection: {consecutiveGatewayErrors: 2, baseEjectionTime: 1m}
)"));
  EXPECT_EQ(c.cluster(kCluster)["outlier_detection"],
            json::parse(R"({"consecutive_5xx": 5, "consecutive_gateway_errors": 2,
                            "base_ejection_time_ms": 60000})"));
  auto d = compile(withDr(R"(  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, maxEjectionPercent: 100}
)"));
  EXPECT_EQ(d.cluster(kCluster)["outlier_detection"],
            json::parse(R"({"consecutive_5xx": 1, "interval_ms": 1000,
                            "max_ejection_percent": 100})"));
}

TEST(ClusterTest, SubsetsSelectByLabelsAndOverrideByPart) {
  auto c = compile(withDr(R"(  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 9}}
    portLevelSettings:
    - port: {number: 9080}
      outlierDetection: {consecutive5xxErrors: 7}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: new
    labels: {version: v3}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
)"));
  const json& v1 = c.cluster("outbound|9080|v1|reviews.shop.svc.cluster.local");
  ASSERT_EQ(v1["endpoints"].size(), 1u);
  EXPECT_EQ(v1["endpoints"][0]["address"], "198.18.1.1");
  EXPECT_EQ(v1["lb_policy"], "random");
  const json& nw = c.cluster("outbound|9080|new|reviews.shop.svc.cluster.local");
  EXPECT_EQ(nw["endpoints"][0]["address"], "198.18.1.3");
  EXPECT_EQ(nw["lb_policy"], "round_robin") << "the subset's loadBalancer replaces the rule's";
  EXPECT_EQ(nw["max_connections"], 9) << "parts the subset leaves unset come from the rule";
  EXPECT_EQ(nw["outlier_detection"]["consecutive_5xx"], 7) << "port-level settings apply";
}

TEST(ClusterTest, TlsModes) {
  auto c = compile(withDr(R"(  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
  subsets: [{name: v2, labels: {version: v2}}]
)"));
  EXPECT_EQ(c.cluster(kCluster)["tls"], json::parse(R"({"mode": "istio_mutual",
                            "sni": "outbound_.9080_._.reviews.shop.svc.cluster.local"})"));
  EXPECT_EQ(c.cluster("outbound|9080|v2|reviews.shop.svc.cluster.local")["tls"]["sni"],
            "outbound_.9080_.v2_.reviews.shop.svc.cluster.local");
  auto s = compile(withDr(R"(  trafficPolicy:
    tls: {mode: SIMPLE, sni: reviews.example, caCertificates: /etc/ca.pem,
          subjectAltNames: [reviews.example]}
)"));
  EXPECT_EQ(s.cluster(kCluster)["tls"], json::parse(R"({"mode": "simple", "sni": "reviews.example",
                            "ca_certificates": "/etc/ca.pem",
                            "subject_alt_names": ["reviews.example"]})"));
  // DISABLE is written out: a cluster without `tls` would get auto mTLS in the proxy.
  auto d = compile(withDr("  trafficPolicy:\n    tls: {mode: DISABLE}\n"));
  EXPECT_EQ(d.cluster(kCluster)["tls"], json::parse(R"({"mode": "disable"})"));
  auto none = compile(withDr("  trafficPolicy:\n    loadBalancer: {simple: RANDOM}\n"));
  EXPECT_FALSE(none.cluster(kCluster).contains("tls")) << "no rule: auto mTLS decides";
}

TEST(ClusterTest, RuleInTheNodesNamespaceWinsOverTheRootNamespace) {
  std::string yaml = std::string(kReviews) + R"(---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mesh, namespace: istio-system}
spec:
  host: "*.svc.cluster.local"
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
)";
  EXPECT_EQ(compile(yaml).cluster(kCluster)["lb_policy"], "random");
  yaml += R"(---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: local, namespace: shop}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
)";
  EXPECT_EQ(compile(yaml).cluster(kCluster)["lb_policy"], "round_robin");
}

TEST(ClusterTest, ServiceEntryResolutions) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: any, namespace: shop}
spec:
  hosts: [any.example.com]
  resolution: NONE
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: static, namespace: shop}
spec:
  hosts: [static.example.com]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  endpoints:
  - {address: 198.18.8.1}
  - {address: "2001:db8::1", ports: {http: 9090}, weight: 4, locality: r/z, network: n}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dns, namespace: shop}
spec:
  hosts: [dns.example.com]
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr, namespace: shop}
spec:
  hosts: [rr.example.com]
  resolution: DNS_ROUND_ROBIN
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: pending, namespace: shop}
spec:
  hosts: [pending.example.com]
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
)",
                   shopNode(),
                   {{"dns.example.com", {"198.18.9.1", "198.18.9.2"}},
                    {"rr.example.com", {"198.18.9.3", "198.18.9.4"}}});
  EXPECT_EQ(c.cluster("outbound|80||any.example.com")["type"], "original_dst");
  EXPECT_EQ(c.cluster("outbound|80||static.example.com")["endpoints"],
            json::parse(R"([{"address": "198.18.8.1", "port": 8080},
                            {"address": "2001:db8::1", "port": 9090, "weight": 4,
                             "locality": "r/z", "network": "n"}])"));
  EXPECT_EQ(c.cluster("outbound|443||dns.example.com")["endpoints"].size(), 2u);
  const json& rr = c.cluster("outbound|443||rr.example.com")["endpoints"];
  ASSERT_EQ(rr.size(), 1u) << "DNS_ROUND_ROBIN connects to one answer at a time";
  EXPECT_EQ(rr[0]["address"], "198.18.9.3");
  EXPECT_TRUE(c.cluster("outbound|443||pending.example.com")["endpoints"].empty());
  EXPECT_TRUE(c.warned("pending.example.com has no DNS answer yet"));
}

TEST(ClusterTest, WorkloadSelectorPicksHealthyWorkloadEntriesOfItsNamespace) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing, namespace: shop}
spec:
  hosts: [billing.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  workloadSelector: {labels: {app: billing}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-a, namespace: shop}
spec: {address: 198.18.0.21, labels: {app: billing}, ports: {http: 8081}, weight: 2}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-b, namespace: shop}
spec: {address: 198.18.0.22, labels: {app: billing}}
status: {conditions: [{type: Healthy, status: "False"}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-c, namespace: other}
spec: {address: 198.18.0.23, labels: {app: billing}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-d, namespace: shop}
spec: {address: 198.18.0.24, labels: {app: payroll}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-e, namespace: shop}
spec: {address: 198.18.0.25, labels: {app: billing}}
)");
  EXPECT_EQ(c.cluster("outbound|80||billing.shop.svc.cluster.local")["endpoints"],
            json::parse(R"([{"address": "198.18.0.21", "port": 8081, "weight": 2,
                             "labels": {"app": "billing"}},
                            {"address": "198.18.0.25", "port": 8080,
                             "labels": {"app": "billing"}}])"));
}

TEST(ClusterTest, WorkloadsWithAServiceAccountAreMarkedForAutoMtls) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing, namespace: shop}
spec:
  hosts: [billing.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: billing}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-a, namespace: shop}
spec: {address: 198.18.0.21, labels: {app: billing}, serviceAccount: billing}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-b, namespace: shop}
spec: {address: 198.18.0.22, labels: {app: billing}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-c, namespace: shop}
spec:
  address: 198.18.0.23
  labels: {app: billing, security.istio.io/tlsMode: disabled}
  serviceAccount: billing
)");
  // As istiod: the label when given, else "istio" for a workload with a service account.
  EXPECT_EQ(c.cluster("outbound|80||billing.shop.svc.cluster.local")["endpoints"], json::parse(R"([
    {"address": "198.18.0.21", "port": 80,
     "labels": {"app": "billing", "security.istio.io/tlsMode": "istio"}},
    {"address": "198.18.0.22", "port": 80, "labels": {"app": "billing"}},
    {"address": "198.18.0.23", "port": 80,
     "labels": {"app": "billing", "security.istio.io/tlsMode": "disabled"}}])"));
}

}  // namespace
}  // namespace meshnode::compiler::testing
