#include "agent/istio/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace meshnode::istio {
namespace {

struct Loaded {
  Resources resources;
  LoadReport report;
};

Loaded load(const std::string& yaml, const std::string& file = "mesh.yaml") {
  Loaded l;
  loadYaml(yaml, file, &l.resources, &l.report);
  return l;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

TEST(LoaderTest, ReadsEveryKindFromOneMultiDocumentFile) {
  auto l = load(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.18.0.2}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web}}]}]
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: web}
spec: {host: web}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm1, namespace: shop}
spec: {address: 198.18.0.3, labels: {app: web}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: web, namespace: shop}
spec: {metadata: {labels: {app: web}}, template: {ports: {http: 8080}}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec: {egress: [{hosts: ["./*"]}]}
)");
  EXPECT_TRUE(l.report.errors.empty()) << joined(l.report.errors);
  EXPECT_TRUE(l.report.warnings.empty()) << joined(l.report.warnings);
  ASSERT_EQ(l.resources.service_entries.size(), 1u);
  EXPECT_EQ(l.resources.virtual_services.size(), 1u);
  ASSERT_EQ(l.resources.destination_rules.size(), 1u);
  EXPECT_EQ(l.resources.workload_entries.size(), 1u);
  EXPECT_EQ(l.resources.workload_groups.size(), 1u);
  EXPECT_EQ(l.resources.sidecars.size(), 1u);
  EXPECT_EQ(l.resources.destination_rules[0].meta.ns, "default");  // no namespace given
  EXPECT_EQ(l.resources.virtual_services[0].meta.line, 10);
  EXPECT_EQ(l.resources.workload_groups[0].template_.ports.at("http"), 8080u);
}

TEST(LoaderTest, AnInvalidResourceIsRejectedAloneAndTheRestLoads) {
  auto l = load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: good-a, namespace: default}
spec:
  hosts: [a]
  http: [{route: [{destination: {host: a}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: good-b, namespace: default}
spec:
  hosts: [b]
  http: [{route: [{destination: {host: b}}]}]
)",
                "mesh.yaml");
  ASSERT_EQ(l.report.errors.size(), 1u) << joined(l.report.errors);
  EXPECT_EQ(l.report.errors[0],
            "mesh.yaml:16: VirtualService default/reviews: "
            "spec.http[0].route[0].destination.host: is required");
  ASSERT_EQ(l.resources.virtual_services.size(), 2u);
  EXPECT_EQ(l.resources.virtual_services[0].meta.name, "good-a");
  EXPECT_EQ(l.resources.virtual_services[1].meta.name, "good-b");
  EXPECT_EQ(l.report.rejected, std::vector<std::string>{"VirtualService default/reviews"});
}

TEST(LoaderTest, UnknownFieldsAreWarnedWithTheirLine) {
  auto l = load(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r, namespace: ns1}
spec:
  host: r
  trafficPolicy:
    loadBalancer:
      simple: RANDOM
      colour: blue
)");
  EXPECT_TRUE(l.report.errors.empty());
  ASSERT_EQ(l.report.warnings.size(), 1u);
  EXPECT_EQ(l.report.warnings[0],
            "mesh.yaml:9: DestinationRule ns1/r: spec.trafficPolicy.loadBalancer.colour: unknown "
            "field, ignored");
  EXPECT_EQ(l.resources.destination_rules.size(), 1u);
}

TEST(LoaderTest, DocumentedFieldsThatAreNotAppliedAreWarned) {
  auto l = load(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r, namespace: ns1}
spec:
  host: r
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 5
        tcpKeepalive: {time: 7200s}
)");
  EXPECT_TRUE(l.report.errors.empty());
  ASSERT_EQ(l.report.warnings.size(), 1u);
  EXPECT_EQ(l.report.warnings[0],
            "mesh.yaml:10: DestinationRule ns1/r: spec.trafficPolicy.connectionPool.tcp."
            "tcpKeepalive: is not applied by meshnode, ignored");
  ASSERT_EQ(l.resources.destination_rules.size(), 1u);
  EXPECT_EQ(*l.resources.destination_rules[0].traffic_policy->connection_pool->max_connections, 5u);
}

TEST(LoaderTest, OtherKindsAreSkippedWithANote) {
  auto l = load(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: shop}
spec: {}
---
apiVersion: v1
kind: Service
metadata: {name: web}
)");
  EXPECT_TRUE(l.report.errors.empty());
  ASSERT_EQ(l.report.warnings.size(), 2u);
  EXPECT_NE(l.report.warnings[0].find("mesh.yaml:1: Gateway shop/ingress: skipped"),
            std::string::npos);
  EXPECT_NE(l.report.warnings[1].find("mesh.yaml:6: Service default/web: skipped"),
            std::string::npos);
}

TEST(LoaderTest, SyntaxErrorNamesFileAndLine) {
  auto l = load("apiVersion: networking.istio.io/v1\nkind: Sidecar\nspec: [a, b\n", "bad.yaml");
  ASSERT_EQ(l.report.errors.size(), 1u);
  EXPECT_EQ(l.report.errors[0].rfind("bad.yaml:", 0), 0u) << l.report.errors[0];
  EXPECT_NE(l.report.errors[0].find("invalid YAML"), std::string::npos);
}

TEST(LoaderTest, WorkloadEntryHealthComesFromItsCondition) {
  auto l = load(R"(apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: up, namespace: shop}
spec: {address: 198.18.0.3}
status: {conditions: [{type: Healthy, status: "True"}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: down, namespace: shop}
spec: {address: 198.18.0.4}
status: {conditions: [{type: Healthy, status: "False"}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: unprobed, namespace: shop}
spec: {address: 198.18.0.5}
)");
  ASSERT_EQ(l.resources.workload_entries.size(), 3u) << joined(l.report.errors);
  EXPECT_TRUE(l.resources.workload_entries[0].healthy);
  EXPECT_FALSE(l.resources.workload_entries[1].healthy);
  EXPECT_TRUE(l.resources.workload_entries[2].healthy);
}

TEST(LoaderTest, KeepLastGoodRestoresARejectedResource) {
  auto before = load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web}}], timeout: 2s}]
)");
  ASSERT_EQ(before.resources.virtual_services.size(), 1u);
  auto after = load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web}}], timeout: soon}]
)");
  ASSERT_TRUE(after.resources.virtual_services.empty());
  keepLastGood(before.resources, after.report.rejected, &after.resources);
  ASSERT_EQ(after.resources.virtual_services.size(), 1u);
  EXPECT_EQ(after.resources.virtual_services[0].http[0].timeout_ms, 2000);
}

TEST(LoaderTest, LoadsADirectoryInPathOrder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("meshnode-loader-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "b.yaml") << "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
                                   "metadata: {name: b}\nspec: {}\n";
  std::ofstream(dir / "sub" / "a.yml") << "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
                                          "metadata: {name: c}\nspec: {}\n";
  std::ofstream(dir / "notes.txt") << "not yaml: [";
  Resources r;
  LoadReport report;
  ASSERT_TRUE(loadDirectory(dir.string(), &r, &report).ok());
  EXPECT_TRUE(report.errors.empty()) << joined(report.errors);
  ASSERT_EQ(r.sidecars.size(), 2u);
  EXPECT_EQ(r.sidecars[0].meta.name, "b");
  EXPECT_EQ(r.sidecars[1].meta.name, "c");
  fs::remove_all(dir);
  EXPECT_FALSE(loadDirectory(dir.string(), &r, &report).ok());
}

}  // namespace
}  // namespace meshnode::istio
