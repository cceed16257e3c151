#include <gtest/gtest.h>

#include "tests/unit/agent/compiler/compile_helpers.h"

namespace meshnode::compiler::testing {
namespace {

constexpr const char* kExternal = R"(---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: external}
spec:
  hosts: [api.example.com]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.20.1}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: hidden, namespace: external}
spec:
  hosts: [hidden.example.com]
  exportTo: ["."]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.20.2}]
)";

bool hasVhost(const Compiled& c, uint32_t port, const std::string& name) {
  for (const auto& t : c.doc["http_routes"])
    if (t["port"] == port)
      for (const auto& v : t["virtual_hosts"])
        if (v["name"] == name) return true;
  return false;
}

TEST(ScopeTest, ExportToHidesAServiceFromOtherNamespaces) {
  auto c = compile(std::string(kReviews) + kExternal);
  EXPECT_TRUE(hasVhost(c, 80, "api.example.com:80"));
  EXPECT_FALSE(hasVhost(c, 80, "hidden.example.com:80"));
  EXPECT_FALSE(c.hasCluster("outbound|80||hidden.example.com"));
  NodeIdentity inside = shopNode();
  inside.ns = "external";
  EXPECT_TRUE(
      hasVhost(compile(std::string(kReviews) + kExternal, inside), 80, "hidden.example.com:80"));
}

TEST(ScopeTest, SidecarEgressBoundsWhatIsCompiled) {
  std::string sidecar = R"(---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
)";
  auto c = compile(std::string(kReviews) + kExternal + sidecar);
  EXPECT_TRUE(hasVhost(c, 9080, "reviews.shop.svc.cluster.local:9080"));
  EXPECT_FALSE(hasVhost(c, 80, "api.example.com:80"));
  EXPECT_FALSE(c.hasCluster("outbound|80||api.example.com"));
  auto named = compile(std::string(kReviews) + kExternal + R"(---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["external/api.example.com"]}]
)");
  EXPECT_TRUE(hasVhost(named, 80, "api.example.com:80"));
  EXPECT_FALSE(named.hasCluster("outbound|9080||reviews.shop.svc.cluster.local"));
}

TEST(ScopeTest, SidecarWithSelectorBeatsNamespaceDefault) {
  std::string yaml = std::string(kReviews) + kExternal + R"(---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  egress: [{hosts: ["external/*"]}]
)";
  auto c = compile(yaml);
  EXPECT_TRUE(hasVhost(c, 80, "api.example.com:80"));
  EXPECT_FALSE(c.hasCluster("outbound|9080||reviews.shop.svc.cluster.local"));
}

TEST(ScopeTest, OutboundTrafficPolicy) {
  auto allow = compile(kReviews);
  EXPECT_EQ(allow.doc["listeners"][0]["unmatched"], "passthrough");
  const json& any = allow.table(9080)["virtual_hosts"].back();
  EXPECT_EQ(any["domains"], json::array({"*"}));
  EXPECT_EQ(any["routes"][0]["clusters"][0]["cluster"], "PassthroughCluster");
  EXPECT_EQ(allow.cluster("PassthroughCluster")["type"], "original_dst");

  auto only = compile(std::string(kReviews) + R"(---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)");
  EXPECT_EQ(only.doc["listeners"][0]["name"], "virtualOutbound");
  EXPECT_EQ(only.doc["listeners"][0]["unmatched"], "refuse");
  const json& block = only.table(9080)["virtual_hosts"].back();
  EXPECT_EQ(block["routes"][0]["direct_response"]["status"], 502);

  CompileOptions mesh;
  mesh.registry_only = true;
  EXPECT_EQ(compile(kReviews, shopNode(), {}, mesh).doc["listeners"][0]["unmatched"], "refuse");
}

constexpr const char* kTcp = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: shop}
spec:
  hosts: [db.shop.svc.cluster.local]
  addresses: [198.18.30.10]
  resolution: STATIC
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  endpoints:
  - {address: 198.18.30.1, labels: {role: primary}}
  - {address: 198.18.30.2, labels: {role: replica}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: shop}
spec:
  host: db
  subsets: [{name: primary, labels: {role: primary}}, {name: replica, labels: {role: replica}}]
)";

TEST(ScopeTest, TcpServiceDefaultAndWeightedRoutes) {
  auto plain = compile(kTcp);
  EXPECT_EQ(plain.tcp(5432), json::parse(R"([{"direction": "outbound", "port": 5432,
      "destinations": ["198.18.30.10"], "cluster": "outbound|5432||db.shop.svc.cluster.local"}])"));
  auto split = compile(std::string(kTcp) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432, destinationSubnets: [198.18.31.0/24]}]
    route: [{destination: {host: db, subset: replica}}]
  - route:
    - {destination: {host: db, subset: primary}, weight: 70}
    - {destination: {host: db, subset: replica}, weight: 30}
)");
  json routes = split.tcp(5432);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0]["destinations"], json::array({"198.18.31.0/24"}));
  EXPECT_EQ(routes[0]["cluster"], "outbound|5432|replica|db.shop.svc.cluster.local");
  EXPECT_EQ(routes[1]["cluster"], "outbound|5432|primary|db.shop.svc.cluster.local");
  EXPECT_EQ(routes[1]["weighted_clusters"],
            json::parse(R"([{"cluster": "outbound|5432|primary|db.shop.svc.cluster.local",
                             "weight": 70},
                            {"cluster": "outbound|5432|replica|db.shop.svc.cluster.local",
                             "weight": 30}])"));
}

TEST(ScopeTest, TlsRoutesBySni) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild, namespace: shop}
spec:
  hosts: ["*.api.example.com"]
  resolution: NONE
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: eu, namespace: shop}
spec:
  hosts: [eu.api.example.com]
  resolution: STATIC
  ports: [{number: 443, name: tls, protocol: TLS}]
  endpoints: [{address: 198.18.40.1}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: eu, namespace: shop}
spec:
  hosts: [eu.api.example.com]
  tls:
  - match: [{port: 443, sniHosts: [eu.api.example.com]}]
    route: [{destination: {host: eu.api.example.com}}]
)");
  json routes = c.tcp(443);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0]["sni"], json::array({"*.api.example.com"}));
  EXPECT_EQ(c.cluster(routes[0]["cluster"].get<std::string>())["type"], "original_dst");
  EXPECT_EQ(routes[1]["sni"], json::array({"eu.api.example.com"}));
  EXPECT_EQ(routes[1]["cluster"], "outbound|443||eu.api.example.com");
}

TEST(ScopeTest, InboundPortsFromTheServicesSelectingThisNode) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP, targetPort: 8080}
  - {number: 5000, name: tcp-admin, protocol: TCP}
  workloadSelector: {labels: {app: web}}
)");
  const json& in = c.table(8080, "inbound");
  EXPECT_EQ(in["virtual_hosts"][0]["domains"], json::array({"*"}));
  EXPECT_EQ(in["virtual_hosts"][0]["routes"][0]["clusters"][0]["cluster"], "inbound|8080||");
  EXPECT_EQ(c.cluster("inbound|8080||")["endpoints"],
            json::parse(R"([{"address": "127.0.0.1", "port": 8080}])"));
  EXPECT_EQ(c.tcp(5000, "inbound"), json::parse(R"([{"direction": "inbound", "port": 5000,
      "cluster": "inbound|5000||"}])"));
  EXPECT_EQ(c.doc["listeners"][1]["port"], 15006);
  EXPECT_EQ(c.doc["listeners"][1]["unmatched"], "passthrough");
  // The node is an endpoint of the service only once registered (a WorkloadEntry exists).
  EXPECT_TRUE(c.cluster("outbound|80||web.shop.svc.cluster.local")["endpoints"].empty());
}

TEST(ScopeTest, SidecarIngressDefinesInboundPorts) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: web, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:3000
)");
  EXPECT_EQ(c.cluster("inbound|9080||")["endpoints"],
            json::parse(R"([{"address": "127.0.0.1", "port": 3000}])"));
  EXPECT_EQ(c.table(9080, "inbound")["virtual_hosts"][0]["routes"][0]["clusters"][0]["cluster"],
            "inbound|9080||");
}

TEST(ScopeTest, WorkloadGroupGivesLabelsPortsAndThisNodesEntry) {
  std::string yaml = R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: billing, namespace: shop}
spec:
  metadata: {labels: {app: billing}}
  template: {ports: {http: 8080}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: billing, namespace: shop}
spec:
  hosts: [billing.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: billing}}
)";
  NodeIdentity node = shopNode();
  node.labels = {{"version", "v7"}};
  node.workload_group = "billing";
  auto c = compile(yaml, node);
  EXPECT_EQ(c.cluster("outbound|80||billing.shop.svc.cluster.local")["endpoints"],
            json::parse(R"([{"address": "198.18.0.10", "port": 8080,
                             "labels": {"app": "billing", "version": "v7"}}])"));
  EXPECT_EQ(c.cluster("inbound|8080||")["protocol"], "http1");
}

TEST(ScopeTest, AHostDefinedTwicePrefersTheNodesNamespace) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a-first, namespace: aaa}
spec:
  hosts: [api.example.com]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.21.1}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: local, namespace: shop}
spec:
  hosts: [api.example.com]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.21.2}]
)");
  EXPECT_EQ(c.cluster("outbound|80||api.example.com")["endpoints"][0]["address"], "198.18.21.2");
  EXPECT_TRUE(c.warned("ServiceEntry aaa/a-first: host api.example.com is already defined"));
}

TEST(ScopeTest, VirtualServiceForAnUnknownHostIsWarned) {
  auto c = compile(std::string(kReviews) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ghost, namespace: shop}
spec:
  hosts: [ghost]
  http: [{route: [{destination: {host: ghost}}]}]
)");
  EXPECT_TRUE(
      c.warned("VirtualService shop/ghost: host ghost.shop.svc.cluster.local is not a "
               "service this node can see"));
}

TEST(ScopeTest, NodeErrors) {
  istio::Resources none;
  CompileInput in;
  in.resources = &none;
  in.node = shopNode();
  in.node.ip = "host.example";
  auto bad_ip = compileSnapshot(in);
  ASSERT_FALSE(bad_ip.ok());
  EXPECT_EQ(bad_ip.error().detail, "node ip: \"host.example\" is not a numeric IP address");
  in.node.ip = "198.18.0.10";
  in.node.workload_group = "ghost";
  auto no_group = compileSnapshot(in);
  ASSERT_FALSE(no_group.ok());
  EXPECT_EQ(no_group.error().detail, "workload group shop/ghost is not among the loaded resources");
}

TEST(ScopeTest, VersionIsADigestOfTheContent) {
  istio::Resources r;
  istio::LoadReport report;
  istio::loadYaml(kReviews, "a.yaml", &r, &report);
  CompileInput in;
  in.resources = &r;
  in.node = shopNode();
  auto a = compileSnapshot(in), b = compileSnapshot(in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->version, b->version);
  EXPECT_EQ(a->json, b->json);
  r.service_entries[0].endpoints.pop_back();
  auto c = compileSnapshot(in);
  EXPECT_NE(c->version, a->version);
}

}  // namespace
}  // namespace meshnode::compiler::testing

namespace meshnode::compiler::testing {
namespace {

TEST(DnsHostsTest, NamesTheHostsTheResolverMustLookUp) {
  istio::Resources r;
  istio::LoadReport report;
  istio::loadYaml(std::string(kReviews) + R"(---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: ext}
spec:
  hosts: [api.example.com, api2.example.com]
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: ext}
spec:
  hosts: [b.example.com]
  resolution: DNS_ROUND_ROBIN
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: lb.example.net}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: c, namespace: ext}
spec:
  hosts: [c.example.com]
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.0.1}, {address: c1.example.net}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm, namespace: ext}
spec: {address: vm1.example.net}
)",
                  "dns.yaml", &r, &report);
  ASSERT_TRUE(report.errors.empty());
  EXPECT_EQ(hostsToResolve(r),
            (std::vector<std::string>{"api.example.com", "api2.example.com", "c1.example.net",
                                      "lb.example.net", "vm1.example.net"}));
}

}  // namespace
}  // namespace meshnode::compiler::testing

namespace meshnode::compiler::testing {
namespace {

TEST(PortProtocolTest, APortWithoutProtocolTakesItFromItsName) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: shop}
spec:
  hosts: [a.example.com]
  resolution: STATIC
  ports:
  - {number: 80, name: http-web}
  - {number: 7070, name: grpc}
  - {number: 5432, name: tcp-db}
  - {number: 9000, name: admin}
  endpoints: [{address: 198.18.22.1}]
)");
  EXPECT_EQ(c.cluster("outbound|80||a.example.com")["protocol"], "http1");
  EXPECT_EQ(c.cluster("outbound|7070||a.example.com")["protocol"], "http2");
  EXPECT_TRUE(c.tcp(80).empty());
  EXPECT_EQ(c.tcp(5432).size(), 1u);
  // Unknown: sniffed, so both an HTTP table and a TCP route serve the port.
  EXPECT_EQ(c.table(9000)["virtual_hosts"][0]["name"], "a.example.com:9000");
  EXPECT_EQ(c.tcp(9000).size(), 1u);
}

}  // namespace
}  // namespace meshnode::compiler::testing

namespace meshnode::compiler::testing {
namespace {

TEST(ScopeTest, SidecarEgressListenerWithAPortOwnsThatPort) {
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: a, namespace: shop}
spec:
  hosts: [a.example.com]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 5432, name: tcp, protocol: TCP}]
  endpoints: [{address: 198.18.23.1}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: b, namespace: shop}
spec:
  hosts: [b.example.com]
  resolution: STATIC
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  endpoints: [{address: 198.18.23.2}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - port: {number: 5432, protocol: TCP, name: pg}
    hosts: ["./b.example.com"]
  - hosts: ["./*"]
)");
  EXPECT_TRUE(c.hasCluster("outbound|80||a.example.com"));
  EXPECT_FALSE(c.hasCluster("outbound|5432||a.example.com"))
      << "port 5432 belongs to the listener that names only b.example.com";
  EXPECT_TRUE(c.hasCluster("outbound|5432||b.example.com"));
}

}  // namespace
}  // namespace meshnode::compiler::testing
