#include <gtest/gtest.h>

#include "tests/unit/agent/compiler/compile_helpers.h"

namespace meshnode::compiler::testing {
namespace {

constexpr const char* kFqdn = "reviews.shop.svc.cluster.local";

std::string withVs(const std::string& http) {
  return std::string(kReviews) +
         "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
         "metadata: {name: reviews, namespace: shop}\nspec:\n  hosts: [reviews]\n  http:\n" +
         http;
}

TEST(HttpRouteTest, DomainsFollowIstio) {
  auto c = compile(kReviews);
  const json& vh = c.vhost(9080, std::string(kFqdn) + ":9080");
  std::vector<std::string> domains = vh["domains"];
  // Istio's set: FQDN, name.namespace.svc, name.namespace, the short name (same namespace),
  // the VIP, each with and without the port.
  EXPECT_EQ(domains, (std::vector<std::string>{
                         kFqdn, std::string(kFqdn) + ":9080", "reviews.shop.svc",
                         "reviews.shop.svc:9080", "reviews.shop", "reviews.shop:9080", "reviews",
                         "reviews:9080", "198.18.100.11", "198.18.100.11:9080"}));
  NodeIdentity other = shopNode();
  other.ns = "web";
  auto o = compile(kReviews, other);
  std::vector<std::string> other_domains = o.vhost(9080, std::string(kFqdn) + ":9080")["domains"];
  EXPECT_EQ(std::count(other_domains.begin(), other_domains.end(), "reviews"), 0)
      << "a short name resolves only within its namespace";
  EXPECT_EQ(std::count(other_domains.begin(), other_domains.end(), "reviews.shop"), 1);
}

TEST(HttpRouteTest, WithoutVirtualServiceTheDefaultRouteUsesIstiodsRetryPolicy) {
  auto c = compile(kReviews);
  const json& routes = c.routes(9080, kFqdn);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0]["clusters"][0]["cluster"], std::string("outbound|9080||") + kFqdn);
  EXPECT_FALSE(routes[0].contains("match"));
  EXPECT_EQ(routes[0]["retries"]["attempts"], 2);
  EXPECT_EQ(routes[0]["retries"]["retriable_status_codes"], json::array({503}));
  EXPECT_FALSE(routes[0].contains("timeout_ms")) << "Istio sets no route timeout by default";
}

struct MatchCase {
  const char* name;
  const char* match_yaml;  // one HTTPMatchRequest, flow style
  const char* expected;    // the compiled "match" object
};

class HttpMatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(HttpMatchTest, CompilesToTheSnapshotMatch) {
  auto c = compile(withVs(std::string("  - match: [") + GetParam().match_yaml +
                          "]\n    route: [{destination: {host: reviews}}]\n"));
  const json& routes = c.routes(9080, kFqdn);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].value("match", json::object()), json::parse(GetParam().expected))
      << routes[0].dump();
}

INSTANTIATE_TEST_SUITE_P(
    Fields, HttpMatchTest,
    ::testing::Values(
        MatchCase{"UriExact", "{uri: {exact: /a}}", R"({"path": {"exact": "/a"}})"},
        MatchCase{"UriPrefix", "{uri: {prefix: /api}}", R"({"path": {"prefix": "/api"}})"},
        MatchCase{"UriRegex", "{uri: {regex: '/v[0-9]+'}}", R"({"path": {"regex": "/v[0-9]+"}})"},
        MatchCase{"IgnoreUriCase", "{uri: {exact: /A}, ignoreUriCase: true}",
                  R"({"path": {"exact": "/A", "ignore_case": true}})"},
        MatchCase{"Scheme", "{scheme: {exact: https}}",
                  R"({"headers": [{"name": ":scheme", "exact": "https"}]})"},
        MatchCase{"Method", "{method: {exact: GET}}",
                  R"({"headers": [{"name": ":method", "exact": "GET"}]})"},
        MatchCase{"Authority", "{authority: {prefix: shop.}}",
                  R"({"headers": [{"name": ":authority", "prefix": "shop."}]})"},
        MatchCase{"HeaderExact", "{headers: {end-user: {exact: jason}}}",
                  R"({"headers": [{"name": "end-user", "exact": "jason"}]})"},
        MatchCase{"HeaderPrefix", "{headers: {x-v: {prefix: '2.'}}}",
                  R"({"headers": [{"name": "x-v", "prefix": "2."}]})"},
        MatchCase{"HeaderRegex", "{headers: {x-v: {regex: '2\\..*'}}}",
                  R"({"headers": [{"name": "x-v", "regex": "2\\..*"}]})"},
        MatchCase{"HeaderPresent", "{headers: {x-trace: {}}}",
                  R"({"headers": [{"name": "x-trace", "present": true}]})"},
        MatchCase{"WithoutHeaderAbsent", "{withoutHeaders: {x-debug: {}}}",
                  R"({"headers": [{"name": "x-debug", "absent": true}]})"},
        MatchCase{"WithoutHeaderValue", "{withoutHeaders: {x-env: {exact: test}}}",
                  R"({"headers": [{"name": "x-env", "exact": "test", "invert": true}]})"},
        MatchCase{"QueryExact", "{queryParams: {debug: {exact: '1'}}}",
                  R"({"query_params": [{"name": "debug", "exact": "1"}]})"},
        MatchCase{"QueryRegex", "{queryParams: {id: {regex: '[0-9]+'}}}",
                  R"({"query_params": [{"name": "id", "regex": "[0-9]+"}]})"},
        MatchCase{"PortOfThisListener", "{port: 9080, uri: {exact: /p}}",
                  R"({"path": {"exact": "/p"}})"},
        MatchCase{"SourceLabelsOfThisNode", "{sourceLabels: {app: web}, uri: {exact: /s}}",
                  R"({"path": {"exact": "/s"}})"},
        MatchCase{"MeshGateway", "{gateways: [mesh], uri: {exact: /g}}",
                  R"({"path": {"exact": "/g"}})"},
        MatchCase{"SourceNamespaceOfThisNode", "{sourceNamespace: shop, uri: {exact: /n}}",
                  R"({"path": {"exact": "/n"}})"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// Conditions about the caller that this node does not meet drop the route, as istiod does
// when it builds a sidecar's configuration.
class HttpMatchDroppedTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HttpMatchDroppedTest, RouteIsLeftOut) {
  auto c = compile(withVs(std::string("  - match: [") + GetParam() +
                          "]\n    route: [{destination: {host: reviews, subset: v2}}]\n"
                          "  - route: [{destination: {host: reviews}}]\n"));
  const json& routes = c.routes(9080, kFqdn);
  ASSERT_EQ(routes.size(), 1u) << routes.dump();
  EXPECT_EQ(routes[0]["clusters"][0]["cluster"], std::string("outbound|9080||") + kFqdn);
}

INSTANTIATE_TEST_SUITE_P(Conditions, HttpMatchDroppedTest,
                         ::testing::Values("{port: 8080}", "{sourceLabels: {app: billing}}",
                                           "{gateways: [istio-system/ingress]}",
                                           "{sourceNamespace: other}"));

TEST(HttpRouteTest, EachMatchBecomesARouteInOrder) {
  auto c = compile(withVs(R"(  - name: two
    match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - name: rest
    route: [{destination: {host: reviews, subset: v2}}]
)"));
  const json& routes = c.routes(9080, kFqdn);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0]["match"]["path"]["prefix"], "/a");
  EXPECT_EQ(routes[1]["match"]["path"]["prefix"], "/b");
  EXPECT_EQ(routes[1]["name"], "two");
  EXPECT_EQ(routes[2]["name"], "rest");
  EXPECT_FALSE(routes[2].contains("match"));
}

TEST(HttpRouteTest, WeightedSubsets) {
  auto c = compile(withVs(R"(  - route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10}
    - {destination: {host: reviews, subset: v3}, weight: 0}
)") + R"(---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
)");
  const json& clusters = c.routes(9080, kFqdn)[0]["clusters"];
  ASSERT_EQ(clusters.size(), 2u) << "a zero weight leaves the destination out";
  EXPECT_EQ(clusters[0],
            json({{"cluster", std::string("outbound|9080|v1|") + kFqdn}, {"weight", 90}}));
  EXPECT_EQ(clusters[1]["weight"], 10);
  const json& v2 = c.cluster(std::string("outbound|9080|v2|") + kFqdn);
  ASSERT_EQ(v2["endpoints"].size(), 1u);
  EXPECT_EQ(v2["endpoints"][0]["address"], "198.18.1.2");
}

TEST(HttpRouteTest, UnknownDestinationsGetAnEmptyClusterAndAWarning) {
  auto c =
      compile(withVs("  - route: [{destination: {host: reviews, subset: v9}}]\n"
                     "  - route: [{destination: {host: nowhere}}]\n"));
  const json& empty = c.cluster(std::string("outbound|9080|v9|") + kFqdn);
  EXPECT_TRUE(empty["endpoints"].empty()) << "Envoy answers 503 for a missing subset";
  EXPECT_TRUE(c.hasCluster("outbound|9080||nowhere.shop.svc.cluster.local"));
  EXPECT_TRUE(c.warned("nowhere.shop.svc.cluster.local is not a service this node can see"));
}

TEST(HttpRouteTest, RedirectRewriteDirectResponse) {
  auto c = compile(withVs(R"(  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, authority: shop.example, port: 8443, scheme: https, redirectCode: 308}
  - match: [{uri: {exact: /ping}}]
    directResponse: {status: 200, body: {string: pong}}
  - match: [{uri: {prefix: /v1/}}]
    rewrite: {uri: /, authority: reviews.internal}
    route: [{destination: {host: reviews}}]
)"));
  const json& routes = c.routes(9080, kFqdn);
  EXPECT_EQ(routes[0]["redirect"], json::parse(R"({"scheme": "https", "authority":
      "shop.example:8443", "path": "/new", "status": 308})"));
  EXPECT_EQ(routes[1]["direct_response"], json::parse(R"({"status": 200, "body": "pong"})"));
  EXPECT_EQ(routes[2]["prefix_rewrite"], "/");
  EXPECT_EQ(routes[2]["host_rewrite"], "reviews.internal");
}

TEST(HttpRouteTest, HeadersTimeoutRetries) {
  auto c = compile(withVs(R"(  - match: [{uri: {prefix: /a}}]
    route:
    - destination: {host: reviews}
      headers: {request: {add: {x-dest: a}}}
    headers:
      request: {set: {x-route: r}, remove: [cookie]}
      response: {add: {x-served-by: mesh}}
    timeout: 2500ms
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,gateway-error,503,retriable-4xx"}
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: reviews}}]
    retries: {attempts: 0}
  - route: [{destination: {host: reviews}}]
    retries: {attempts: 5}
)"));
  const json& routes = c.routes(9080, kFqdn);
  EXPECT_EQ(
      routes[0]["request_headers"],
      json::parse(R"({"set": {"x-route": "r"}, "add": {"x-dest": "a"}, "remove": ["cookie"]})"));
  EXPECT_EQ(routes[0]["response_headers"], json::parse(R"({"add": {"x-served-by": "mesh"}})"));
  EXPECT_EQ(routes[0]["timeout_ms"], 2500);
  EXPECT_EQ(routes[0]["retries"], json::parse(R"({"attempts": 3, "per_try_timeout_ms": 500,
      "retry_on": ["5xx", "gateway-error", "retriable-4xx", "retriable-status-codes"],
      "retriable_status_codes": [503]})"));
  EXPECT_FALSE(routes[1].contains("retries")) << "attempts: 0 turns retries off";
  EXPECT_EQ(routes[2]["retries"]["attempts"], 5);
  EXPECT_EQ(routes[2]["retries"]["retry_on"],
            json::parse(R"(["connect-failure", "refused-stream", "unavailable", "cancelled",
                            "retriable-status-codes"])"))
      << "no retryOn keeps Istio's default conditions";
}

TEST(HttpRouteTest, FaultMirrorCors) {
  auto c = compile(withVs(R"(  - route: [{destination: {host: reviews, subset: v1}}]
    fault:
      delay: {fixedDelay: 5s, percentage: {value: 12.5}}
      abort: {httpStatus: 503}
    mirror: {host: reviews, subset: v3}
    mirrorPercentage: {value: 20}
    corsPolicy:
      allowOrigins: [{exact: "https://a.example"}, {regex: "https://.*\\.b\\.example"}]
      allowMethods: [GET]
      allowHeaders: [x-token]
      exposeHeaders: [x-id]
      maxAge: 10m
      allowCredentials: true
)"));
  const json& r = c.routes(9080, kFqdn)[0];
  EXPECT_EQ(r["fault"], json::parse(R"({"delay_ms": 5000, "delay_percent": 12.5,
      "abort_status": 503, "abort_percent": 100.0})"));
  EXPECT_EQ(r["mirrors"], json::parse(std::string(R"([{"cluster": "outbound|9080|v3|)") + kFqdn +
                                      R"(", "percent": 20.0}])"));
  EXPECT_EQ(r["cors"], json::parse(R"({"allow_origins": [{"exact": "https://a.example"},
      {"regex": "https://.*\\.b\\.example"}], "allow_methods": ["GET"], "allow_headers":
      ["x-token"], "expose_headers": ["x-id"], "max_age_ms": 600000, "allow_credentials": true})"));
}

TEST(HttpRouteTest, DestinationPortChoice) {
  // Two ports: a destination without a port goes to the port of the listener it is on.
  auto c = compile(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: http-alt, protocol: HTTP}]
  endpoints: [{address: 198.18.7.1}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  http:
  - match: [{uri: {prefix: /pinned}}]
    route: [{destination: {host: api.example.com, port: {number: 8080}}}]
  - route: [{destination: {host: api.example.com}}]
)");
  EXPECT_EQ(c.routes(80, "api.example.com")[0]["clusters"][0]["cluster"],
            "outbound|8080||api.example.com");
  EXPECT_EQ(c.routes(80, "api.example.com")[1]["clusters"][0]["cluster"],
            "outbound|80||api.example.com");
  EXPECT_EQ(c.routes(8080, "api.example.com")[1]["clusters"][0]["cluster"],
            "outbound|8080||api.example.com");
}

TEST(HttpRouteTest, WildcardVirtualServiceHostCoversServices) {
  auto c = compile(std::string(kReviews) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: shop}
spec:
  hosts: ["*.shop.svc.cluster.local"]
  http: [{route: [{destination: {host: reviews}}], timeout: 9s}]
)");
  EXPECT_EQ(c.routes(9080, kFqdn)[0]["timeout_ms"], 9000);
}

TEST(HttpRouteTest, VirtualServiceForOtherGatewaysIsIgnored) {
  auto c = compile(std::string(kReviews) + R"(---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge, namespace: shop}
spec:
  hosts: [reviews]
  gateways: [istio-system/ingress]
  http: [{route: [{destination: {host: reviews}}], timeout: 9s}]
)");
  EXPECT_EQ(c.routes(9080, kFqdn)[0]["name"], "default");
}

}  // namespace
}  // namespace meshnode::compiler::testing
