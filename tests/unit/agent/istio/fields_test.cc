#include <gtest/gtest.h>

#include "agent/istio/field_reader.h"
#include "agent/istio/loader.h"

namespace meshnode::istio {
namespace {

Resources loadOk(const std::string& yaml) {
  Resources r;
  LoadReport report;
  loadYaml(yaml, "t.yaml", &r, &report);
  std::string errors;
  for (const auto& e : report.errors)
    errors += e + "\n";
  EXPECT_TRUE(report.errors.empty()) << errors;
  return r;
}

struct DurationCase {
  const char* text;
  int64_t ms;
};

class DurationTest : public ::testing::TestWithParam<DurationCase> {};

TEST_P(DurationTest, ParsesGoNotation) {
  auto ms = parseDurationMs(GetParam().text);
  if (GetParam().ms < 0) {
    EXPECT_FALSE(ms.has_value()) << GetParam().text;
  } else {
    ASSERT_TRUE(ms.has_value()) << GetParam().text;
    EXPECT_EQ(*ms, GetParam().ms);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DurationTest,
                         ::testing::Values(DurationCase{"1s", 1000}, DurationCase{"250ms", 250},
                                           DurationCase{"1.5s", 1500}, DurationCase{"5m", 300000},
                                           DurationCase{"1h", 3600000},
                                           DurationCase{"1m30s", 90000}, DurationCase{"1500us", 2},
                                           DurationCase{"0s", 0}, DurationCase{"10", -1},
                                           DurationCase{"s", -1}, DurationCase{"1d", -1},
                                           DurationCase{"", -1}));

constexpr const char* kHead =
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n"
    "  hosts: [a]\n  http:\n";

TEST(FieldsTest, HttpMatchFields) {
  auto r = loadOk(std::string(kHead) + R"(  - match:
    - uri: {prefix: /api}
      ignoreUriCase: true
      scheme: {exact: https}
      method: {exact: POST}
      authority: {regex: "a\\..*"}
      headers:
        X-User: {exact: jason}
        x-any: {}
      withoutHeaders:
        x-debug: {}
      queryParams:
        v: {regex: "[0-9]+"}
      port: 8080
      sourceLabels: {app: web}
      gateways: [mesh]
      sourceNamespace: shop
    route: [{destination: {host: a}}]
)");
  ASSERT_EQ(r.virtual_services.size(), 1u);
  const HttpMatch& m = r.virtual_services[0].http[0].match[0];
  EXPECT_EQ(m.uri->kind, StringMatch::Kind::kPrefix);
  EXPECT_EQ(m.uri->value, "/api");
  EXPECT_TRUE(m.ignore_uri_case);
  EXPECT_EQ(m.scheme->value, "https");
  EXPECT_EQ(m.method->value, "POST");
  EXPECT_EQ(m.authority->kind, StringMatch::Kind::kRegex);
  ASSERT_EQ(m.headers.size(), 2u);
  EXPECT_EQ(m.headers[0].first, "x-user");  // header names are case-insensitive
  EXPECT_EQ(m.headers[1].second.kind, StringMatch::Kind::kPresent);
  EXPECT_EQ(m.without_headers[0].first, "x-debug");
  EXPECT_EQ(m.query_params[0].second.kind, StringMatch::Kind::kRegex);
  EXPECT_EQ(m.port, 8080u);
  EXPECT_EQ(m.source_labels.at("app"), "web");
  EXPECT_EQ(m.source_namespace, "shop");
}

TEST(FieldsTest, HttpActionFields) {
  auto r = loadOk(std::string(kHead) + R"(  - route:
    - destination: {host: a, subset: v1, port: {number: 80}}
      weight: 75
      headers: {request: {set: {X-A: "1"}}}
    - destination: {host: a, subset: v2}
      weight: 25
    rewrite: {uri: /new, authority: b.example}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 200ms, retryOn: "gateway-error,503"}
    fault:
      delay: {fixedDelay: 2s, percent: 7}
      abort: {httpStatus: 418}
    mirror: {host: shadow}
    mirrorPercent: 30
    corsPolicy:
      allowOrigin: [https://a.example]
      allowOrigins: [{prefix: "https://b."}]
      maxAge: 1h
      allowCredentials: false
    headers:
      request: {add: {x-b: "2"}, remove: [x-c]}
      response: {set: {x-d: "3"}}
  - redirect: {uri: /x, authority: c.example, port: 8443, scheme: https, redirectCode: 302}
  - directResponse: {status: 404, body: {string: gone}}
)");
  ASSERT_EQ(r.virtual_services.size(), 1u);
  const auto& h = r.virtual_services[0].http;
  EXPECT_EQ(*h[0].route[0].weight, 75u);
  EXPECT_EQ(h[0].route[0].destination.port, 80u);
  EXPECT_EQ(h[0].route[0].headers.request.set[0].first, "x-a");
  EXPECT_EQ(h[0].rewrite->uri, "/new");
  EXPECT_EQ(h[0].rewrite->authority, "b.example");
  EXPECT_EQ(*h[0].timeout_ms, 1500);
  EXPECT_EQ(h[0].retries->attempts, 3u);
  EXPECT_EQ(h[0].retries->per_try_timeout_ms, 200);
  EXPECT_EQ(*h[0].fault->delay_ms, 2000);
  EXPECT_DOUBLE_EQ(h[0].fault->delay_percent, 7);  // the deprecated integer percent
  EXPECT_EQ(*h[0].fault->abort_status, 418);
  EXPECT_DOUBLE_EQ(h[0].fault->abort_percent, 100);  // no percentage: every request
  ASSERT_EQ(h[0].mirrors.size(), 1u);
  EXPECT_DOUBLE_EQ(h[0].mirrors[0].percent, 30);
  ASSERT_EQ(h[0].cors->allow_origins.size(), 2u);
  EXPECT_EQ(h[0].cors->max_age_ms, 3600000);
  EXPECT_EQ(h[0].cors->allow_credentials, false);
  EXPECT_EQ(h[0].headers.request.remove[0], "x-c");
  EXPECT_EQ(h[1].redirect->code, 302);
  EXPECT_EQ(h[1].redirect->port, 8443u);
  EXPECT_EQ(h[2].direct_response->status, 404);
  EXPECT_EQ(h[2].direct_response->body, "gone");
}

TEST(FieldsTest, DestinationRulePolicies) {
  auto r = loadOk(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d}
spec:
  host: a
  exportTo: ["."]
  trafficPolicy:
    loadBalancer: {simple: LEAST_CONN}
    connectionPool:
      tcp: {maxConnections: 7, connectTimeout: 3s, idleTimeout: 1m}
      http: {http1MaxPendingRequests: 2, http2MaxRequests: 9, maxRequestsPerConnection: 4,
             maxRetries: 1, maxConcurrentStreams: 50}
    outlierDetection: {consecutiveErrors: 4, consecutiveGatewayErrors: 2, interval: 2s,
                       baseEjectionTime: 1m, maxEjectionPercent: 40, minHealthPercent: 10}
    tls: {mode: ISTIO_MUTUAL, sni: a.example}
    portLevelSettings:
    - port: {number: 443}
      loadBalancer:
        consistentHash: {useSourceIp: true}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpQueryParameterName: user, ringHash: {minimumRingSize: 64}}
)");
  ASSERT_EQ(r.destination_rules.size(), 1u);
  const auto& d = r.destination_rules[0];
  const auto& tp = *d.traffic_policy;
  EXPECT_EQ(tp.load_balancer->simple, LoadBalancer::Simple::kLeastRequest);  // LEAST_CONN alias
  EXPECT_EQ(*tp.connection_pool->max_connections, 7u);
  EXPECT_EQ(*tp.connection_pool->connect_timeout_ms, 3000);
  EXPECT_EQ(*tp.connection_pool->http1_max_pending_requests, 2u);
  EXPECT_EQ(*tp.connection_pool->http2_max_requests, 9u);
  EXPECT_EQ(*tp.connection_pool->max_concurrent_streams, 50u);
  EXPECT_EQ(*tp.outlier_detection->consecutive_5xx_errors, 4u);  // deprecated consecutiveErrors
  EXPECT_EQ(*tp.outlier_detection->base_ejection_time_ms, 60000);
  EXPECT_EQ(tp.tls->mode, ClientTls::Mode::kIstioMutual);
  ASSERT_EQ(tp.port_level.size(), 1u);
  EXPECT_EQ(tp.port_level[0].first, 443u);
  EXPECT_TRUE(tp.port_level[0].second.load_balancer->use_source_ip);
  EXPECT_EQ(d.subsets[0].traffic_policy->load_balancer->http_query_parameter_name, "user");
  EXPECT_EQ(d.subsets[0].traffic_policy->load_balancer->minimum_ring_size, 64u);
  EXPECT_EQ(d.export_to, std::vector<std::string>{"."});
}

TEST(FieldsTest, ServiceEntryAndSidecarFields) {
  auto r = loadOk(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: s, namespace: ext}
spec:
  hosts: [db.example.com]
  addresses: [198.18.10.0/24]
  location: MESH_INTERNAL
  resolution: DNS_ROUND_ROBIN
  ports: [{number: 5432, name: tcp-pg, protocol: tcp, targetPort: 6432}]
  endpoints: [{address: pg.example.com, ports: {tcp-pg: 7432}, locality: r1/z1, network: n1,
               weight: 5, labels: {role: primary}}]
  subjectAltNames: ["spiffe://cluster.local/ns/ext/sa/db"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: sc, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:8080
  egress:
  - hosts: ["./*", "istio-system/*", "~/*", "*/api.example.com"]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)");
  ASSERT_EQ(r.service_entries.size(), 1u);
  const auto& se = r.service_entries[0];
  EXPECT_EQ(se.location, ServiceEntry::Location::kMeshInternal);
  EXPECT_EQ(se.resolution, ServiceEntry::Resolution::kDnsRoundRobin);
  EXPECT_EQ(se.ports[0].protocol, "TCP");  // protocols are case-insensitive
  EXPECT_EQ(se.ports[0].target_port, 6432u);
  EXPECT_EQ(se.endpoints[0].ports.at("tcp-pg"), 7432u);
  EXPECT_EQ(se.endpoints[0].weight, 5u);
  EXPECT_EQ(se.endpoints[0].locality, "r1/z1");
  ASSERT_EQ(r.sidecars.size(), 1u);
  const auto& sc = r.sidecars[0];
  EXPECT_EQ(sc.workload_selector->at("app"), "web");
  EXPECT_EQ(sc.ingress[0].default_endpoint, "127.0.0.1:8080");
  EXPECT_EQ(sc.egress[0].hosts.size(), 4u);
  EXPECT_EQ(sc.registry_only, true);
}

}  // namespace
}  // namespace meshnode::istio
