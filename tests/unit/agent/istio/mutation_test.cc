#include <functional>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "agent/istio/loader.h"

// Every field of a valid manifest replaced, one at a time, by a value of the wrong shape: the
// loader must answer each with errors that name the resource and the field, never with a crash,
// an exception, or a generic message.
namespace meshnode::istio {
namespace {

constexpr const char* kManifests[] = {
    R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: f, namespace: ns}
spec:
  hosts: [a]
  http:
  - match: [{uri: {prefix: /}, headers: {x: {exact: y}}, queryParams: {q: {exact: "1"}}}]
    route: [{destination: {host: a, subset: v1, port: {number: 80}}, weight: 100,
             headers: {request: {set: {a: b}}}}]
    retries: {attempts: 1, retryOn: 5xx, perTryTimeout: 1s}
    fault: {delay: {fixedDelay: 1s, percentage: {value: 1}}, abort: {httpStatus: 500}}
    mirror: {host: b}
    mirrorPercentage: {value: 5}
    corsPolicy: {allowOrigins: [{exact: x}], allowMethods: [GET], maxAge: 1m}
    headers: {request: {set: {a: b}}, response: {remove: [c]}}
    timeout: 1s
  tls:
  - match: [{sniHosts: [a], port: 443}]
    route: [{destination: {host: a}}]
  tcp:
  - match: [{port: 1, destinationSubnets: [198.18.0.0/24]}]
    route: [{destination: {host: a}}]
)",
    R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: f, namespace: ns}
spec:
  host: a
  exportTo: ["."]
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: a, ttl: 1s}}}
    connectionPool: {tcp: {maxConnections: 1, connectTimeout: 1s}, http: {maxRetries: 1}}
    outlierDetection: {interval: 1s, consecutive5xxErrors: 2}
    tls: {mode: SIMPLE, subjectAltNames: [a]}
    portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}]
  subsets: [{name: v1, labels: {a: b}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}]
)",
    R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: f, namespace: ns}
spec:
  hosts: [a.example.com]
  addresses: [198.18.0.1]
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints: [{address: 198.18.0.2, ports: {http: 80}, labels: {a: b}, weight: 2}]
)",
    R"(apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: f, namespace: ns}
spec:
  workloadSelector: {labels: {a: b}}
  ingress: [{port: {number: 80, name: http}, defaultEndpoint: "127.0.0.1:80"}]
  egress: [{hosts: ["./*"], port: {number: 80}}]
  outboundTrafficPolicy: {mode: ALLOW_ANY}
)",
    R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: f, namespace: ns}
spec:
  metadata: {labels: {a: b}}
  template: {ports: {http: 80}, labels: {a: b}}
)",
    R"(apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: f, namespace: ns}
spec: {address: 198.18.0.3, ports: {http: 80}, labels: {a: b}, locality: r/z}
)",
};

struct Step {
  std::string key;  // empty: a sequence index
  size_t index = 0;
};
using Path = std::vector<Step>;

void collect(const YAML::Node& n, Path& prefix, std::vector<Path>* out) {
  if (!prefix.empty()) out->push_back(prefix);
  if (n.IsMap()) {
    for (const auto& kv : n) {
      prefix.push_back({kv.first.Scalar(), 0});
      collect(kv.second, prefix, out);
      prefix.pop_back();
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      prefix.push_back({"", i});
      collect(n[i], prefix, out);
      prefix.pop_back();
    }
  }
}

std::string render(const Path& p) {
  std::string s = "spec";
  for (const auto& step : p)
    s += step.key.empty() ? "[" + std::to_string(step.index) + "]" : "." + step.key;
  return s;
}

TEST(MutationTest, EveryWrongShapeIsNamed) {
  const std::vector<YAML::Node> alternatives = {YAML::Load("x"),      YAML::Load("[x]"),
                                                YAML::Load("{k: v}"), YAML::Load("~"),
                                                YAML::Load("-1"),     YAML::Load("1.5")};
  size_t cases = 0, refused = 0;
  for (const char* manifest : kManifests) {
    Resources clean;
    LoadReport clean_report;
    loadYaml(manifest, "base.yaml", &clean, &clean_report);
    ASSERT_TRUE(clean_report.errors.empty()) << clean_report.errors[0];

    std::vector<Path> paths;
    Path prefix;
    collect(YAML::Load(manifest)["spec"], prefix, &paths);
    for (const auto& path : paths)
      for (const auto& alt : alternatives) {
        YAML::Node doc = YAML::Clone(YAML::Load(manifest));
        YAML::Node parent = doc["spec"];
        for (size_t i = 0; i + 1 < path.size(); ++i)
          parent.reset(path[i].key.empty() ? parent[path[i].index] : parent[path[i].key]);
        if (path.back().key.empty())
          parent[path.back().index] = YAML::Clone(alt);
        else
          parent[path.back().key] = YAML::Clone(alt);
        YAML::Emitter emitter;
        emitter << doc;
        Resources r;
        LoadReport report;
        loadYaml(emitter.c_str(), "mut.yaml", &r, &report);
        ++cases;
        refused += !report.errors.empty();
        for (const auto& e : report.errors) {
          EXPECT_EQ(e.rfind("mut.yaml:", 0), 0u) << e;
          EXPECT_NE(e.find(" ns/f: spec"), std::string::npos)
              << render(path) << " = " << YAML::Dump(alt) << ": " << e;
        }
      }
  }
  EXPECT_GT(cases, 500u);
  EXPECT_GT(refused, cases / 2) << "most wrong shapes must be refused";
}

}  // namespace
}  // namespace meshnode::istio
