#include <gtest/gtest.h>

#include "agent/istio/loader.h"

namespace meshnode::istio {
namespace {

// Every bad input must be named by file, line and field. The spec body starts on line 5.
struct BadCase {
  const char* kind;
  const char* spec;
  const char* expected;  // the whole error line
};

std::string manifest(const BadCase& c) {
  return std::string("apiVersion: networking.istio.io/v1\nkind: ") + c.kind +
         "\nmetadata: {name: x, namespace: ns}\nspec:\n" + c.spec;
}

class ValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ValidationTest, NamesFileLineAndField) {
  Resources r;
  LoadReport report;
  loadYaml(manifest(GetParam()), "mesh.yaml", &r, &report);
  ASSERT_FALSE(report.errors.empty()) << "accepted:\n" << manifest(GetParam());
  // The whole line, but for library text after the expected part (a regex engine's reason).
  EXPECT_EQ(report.errors[0].substr(0, std::string(GetParam().expected).size()),
            GetParam().expected);
  EXPECT_TRUE(r.virtual_services.empty() && r.destination_rules.empty() &&
              r.service_entries.empty() && r.sidecars.empty() && r.workload_entries.empty() &&
              r.workload_groups.empty());
  ASSERT_EQ(report.rejected.size(), 1u);
  EXPECT_EQ(report.rejected[0], std::string(GetParam().kind) + " ns/x");
}

INSTANTIATE_TEST_SUITE_P(
    VirtualService, ValidationTest,
    ::testing::Values(
        BadCase{"VirtualService", "  http: [{route: [{destination: {host: a}}]}]\n",
                "mesh.yaml:5: VirtualService ns/x: spec.hosts: is required"},
        BadCase{"VirtualService", "  hosts: ['*']\n  http: [{route: [{destination: {host: a}}]}]\n",
                "mesh.yaml:5: VirtualService ns/x: spec.hosts[0]: the wildcard host \"*\" is not "
                "allowed for the mesh gateway"},
        BadCase{"VirtualService", "  hosts: [a]\n",
                "mesh.yaml:5: VirtualService ns/x: spec: needs http, tls or tcp routes"},
        BadCase{"VirtualService", "  hosts: [a]\n  http:\n  - match: [{uri: {exact: /}}]\n",
                "mesh.yaml:7: VirtualService ns/x: spec.http[0]: needs one of route, redirect, "
                "directResponse"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    redirect: {uri: /b}\n",
                "mesh.yaml:7: VirtualService ns/x: spec.http[0]: route, redirect and "
                "directResponse are mutually exclusive"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - match:\n    - uri:\n        regex: '(unclosed'\n"
                "    route: [{destination: {host: a}}]\n",
                "mesh.yaml:9: VirtualService ns/x: spec.http[0].match[0].uri.regex: invalid "
                "regular expression: "},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    timeout: soon\n",
                "mesh.yaml:8: VirtualService ns/x: spec.http[0].timeout: \"soon\" is not a "
                "duration such as 500ms, 2s or 1m"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route:\n    - destination: {host: a}\n"
                "      weight: 150\n",
                "mesh.yaml:9: VirtualService ns/x: spec.http[0].route[0].weight: must be between "
                "0 and 100"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    retries: {attempts: 3, retryOn: '5xx,sometimes'}\n",
                "mesh.yaml:8: VirtualService ns/x: spec.http[0].retries.retryOn: \"sometimes\" "
                "is not a retry condition (5xx, gateway-error, reset, connect-failure, "
                "refused-stream, retriable-4xx, a status code, ...)"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    fault:\n      abort:\n        httpStatus: 503\n"
                "        percentage: {value: 120}\n",
                "mesh.yaml:11: VirtualService ns/x: spec.http[0].fault.abort.percentage.value: "
                "must be between 0 and 100"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    fault:\n      abort:\n        httpStatus: 99\n",
                "mesh.yaml:10: VirtualService ns/x: spec.http[0].fault.abort.httpStatus: must be "
                "between 200 and 599"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    fault:\n      delay:\n        percentage: {value: 5}\n",
                "mesh.yaml:10: VirtualService ns/x: spec.http[0].fault.delay.fixedDelay: is "
                "required"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    mirror: {subset: v2}\n",
                "mesh.yaml:8: VirtualService ns/x: spec.http[0].mirror.host: is required"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    mirrorPercentage: {value: 101}\n    mirror: {host: b}\n",
                "mesh.yaml:8: VirtualService ns/x: spec.http[0].mirrorPercentage.value: must be "
                "between 0 and 100"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: 'bad host'}}]\n",
                "mesh.yaml:7: VirtualService ns/x: spec.http[0].route[0].destination.host: \"bad "
                "host\" is not a valid host name"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n"
                "    match: [{queryParams: {q: {prefix: x}}}]\n",
                "mesh.yaml:8: VirtualService ns/x: spec.http[0].match[0].queryParams.q.prefix: "
                "is not supported here"},
        BadCase{"VirtualService",
                "  hosts: [a.example.com]\n  tls:\n  - match: [{sniHosts: [b.example.com]}]\n"
                "    route: [{destination: {host: a.example.com}}]\n",
                "mesh.yaml:7: VirtualService ns/x: spec.tls[0].match[0].sniHosts: "
                "\"b.example.com\" is not one of the virtual service's hosts"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  tcp:\n  - match: [{destinationSubnets: [300.1.1.1/8]}]\n"
                "    route: [{destination: {host: a}}]\n",
                "mesh.yaml:7: VirtualService ns/x: spec.tcp[0].match[0].destinationSubnets[0]: "
                "\"300.1.1.1/8\" is not an address or CIDR"},
        BadCase{"VirtualService",
                "  hosts: [a]\n  http:\n  - route: [{destination: {host: a, port: {number: "
                "70000}}}]\n",
                "mesh.yaml:7: VirtualService ns/x: spec.http[0].route[0].destination.port.number: "
                "must be between 1 and 65535"}));

INSTANTIATE_TEST_SUITE_P(
    DestinationRule, ValidationTest,
    ::testing::Values(
        BadCase{"DestinationRule", "  subsets: [{name: v1}]\n",
                "mesh.yaml:5: DestinationRule ns/x: spec.host: is required"},
        BadCase{"DestinationRule", "  host: a\n  subsets:\n  - name: v1\n  - name: v1\n",
                "mesh.yaml:8: DestinationRule ns/x: spec.subsets[1].name: duplicate subset \"v1\""},
        BadCase{"DestinationRule",
                "  host: a\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}\n",
                "mesh.yaml:7: DestinationRule ns/x: spec.trafficPolicy.loadBalancer.simple: "
                "\"FASTEST\" is not one of: UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, "
                "ROUND_ROBIN, LEAST_REQUEST"},
        BadCase{"DestinationRule",
                "  host: a\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
                "        httpHeaderName: x-user\n        useSourceIp: true\n",
                "mesh.yaml:9: DestinationRule ns/x: spec.trafficPolicy.loadBalancer."
                "consistentHash: needs exactly one of httpHeaderName, httpCookie, useSourceIp, "
                "httpQueryParameterName"},
        BadCase{"DestinationRule",
                "  host: a\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n"
                "        httpCookie: {ttl: 10s}\n",
                "mesh.yaml:9: DestinationRule ns/x: spec.trafficPolicy.loadBalancer."
                "consistentHash.httpCookie.name: is required"},
        BadCase{
            "DestinationRule",
            "  host: a\n  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: -1}\n",
            "mesh.yaml:8: DestinationRule ns/x: spec.trafficPolicy.connectionPool.tcp."
            "maxConnections: must be a non-negative integer"},
        BadCase{
            "DestinationRule",
            "  host: a\n  trafficPolicy:\n    outlierDetection:\n      maxEjectionPercent: 120\n",
            "mesh.yaml:8: DestinationRule ns/x: spec.trafficPolicy.outlierDetection."
            "maxEjectionPercent: must be between 0 and 100"},
        BadCase{"DestinationRule",
                "  host: a\n  trafficPolicy:\n    outlierDetection:\n      interval: 0s\n",
                "mesh.yaml:8: DestinationRule ns/x: spec.trafficPolicy.outlierDetection.interval: "
                "must be at least 1ms"},
        BadCase{"DestinationRule", "  host: a\n  trafficPolicy:\n    tls: {mode: MUTUAL}\n",
                "mesh.yaml:7: DestinationRule ns/x: spec.trafficPolicy.tls: MUTUAL needs "
                "clientCertificate and privateKey"},
        BadCase{"DestinationRule",
                "  host: a\n  trafficPolicy:\n    portLevelSettings:\n"
                "    - loadBalancer: {simple: RANDOM}\n",
                "mesh.yaml:8: DestinationRule ns/x: spec.trafficPolicy.portLevelSettings[0].port: "
                "is required"}));

INSTANTIATE_TEST_SUITE_P(
    ServiceEntry, ValidationTest,
    ::testing::Values(
        BadCase{"ServiceEntry", "  hosts: [a.example.com]\n",
                "mesh.yaml:5: ServiceEntry ns/x: spec.ports: is required"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  ports:\n  - {number: 80, protocol: HTTP}\n",
                "mesh.yaml:7: ServiceEntry ns/x: spec.ports[0].name: is required"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  ports:\n  - {number: 80, name: h, protocol: SMTP}\n",
                "mesh.yaml:7: ServiceEntry ns/x: spec.ports[0].protocol: \"SMTP\" is not one of "
                "HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  resolution: STATIC\n"
                "  ports: [{number: 80, name: http}]\n",
                "mesh.yaml:5: ServiceEntry ns/x: spec.endpoints: resolution STATIC needs "
                "endpoints or a workloadSelector"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  resolution: STATIC\n"
                "  ports: [{number: 80, name: http}]\n  endpoints:\n  - address: db.example.com\n",
                "mesh.yaml:9: ServiceEntry ns/x: spec.endpoints[0].address: \"db.example.com\" "
                "must be an IP address with resolution STATIC"},
        BadCase{"ServiceEntry",
                "  hosts: ['*.example.com']\n  resolution: DNS\n"
                "  ports: [{number: 443, name: tls, protocol: TLS}]\n",
                "mesh.yaml:6: ServiceEntry ns/x: spec.resolution: DNS resolution of a wildcard "
                "host needs endpoints"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  addresses: [10.0.0.300]\n"
                "  ports: [{number: 80, name: http}]\n",
                "mesh.yaml:6: ServiceEntry ns/x: spec.addresses[0]: \"10.0.0.300\" is not an "
                "address or CIDR"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  resolution: SOMETIMES\n"
                "  ports: [{number: 80, name: http}]\n",
                "mesh.yaml:6: ServiceEntry ns/x: spec.resolution: \"SOMETIMES\" is not one of: "
                "NONE, STATIC, DNS, DNS_ROUND_ROBIN"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  ports:\n  - {number: 80, name: a}\n"
                "  - {number: 80, name: b}\n",
                "mesh.yaml:8: ServiceEntry ns/x: spec.ports[1].number: port 80 is listed twice"},
        BadCase{"ServiceEntry",
                "  hosts: [a.example.com]\n  ports: [{number: 80, name: http}]\n"
                "  workloadSelector: {labels: {app: a}}\n  endpoints: [{address: 198.18.0.1}]\n",
                "mesh.yaml:7: ServiceEntry ns/x: spec.workloadSelector: cannot be used with "
                "endpoints"}));

INSTANTIATE_TEST_SUITE_P(
    Workloads, ValidationTest,
    ::testing::Values(
        BadCase{"WorkloadEntry", "  labels: {app: a}\n",
                "mesh.yaml:5: WorkloadEntry ns/x: spec.address: is required"},
        BadCase{"WorkloadEntry", "  address: 198.18.0.1\n  ports: {http: 0}\n",
                "mesh.yaml:6: WorkloadEntry ns/x: spec.ports.http: must be a port from 1 to 65535"},
        BadCase{"WorkloadEntry", "  address: 198.18.0.1\n  weight: many\n",
                "mesh.yaml:6: WorkloadEntry ns/x: spec.weight: must be a non-negative integer"},
        BadCase{"WorkloadGroup", "  metadata: {labels: {app: a}}\n",
                "mesh.yaml:5: WorkloadGroup ns/x: spec.template: is required"},
        BadCase{"Sidecar", "  egress:\n  - hosts: [example.com]\n",
                "mesh.yaml:6: Sidecar ns/x: spec.egress[0].hosts[0]: \"example.com\" must be "
                "namespace/dnsName (namespace: name, *, . or ~)"},
        BadCase{"Sidecar",
                "  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n"
                "    defaultEndpoint: 198.18.0.1:8080\n",
                "mesh.yaml:7: Sidecar ns/x: spec.ingress[0].defaultEndpoint: \"198.18.0.1:8080\" "
                "must be 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT or [::]:PORT"},
        BadCase{"Sidecar", "  outboundTrafficPolicy: {mode: OPEN}\n",
                "mesh.yaml:5: Sidecar ns/x: spec.outboundTrafficPolicy.mode: \"OPEN\" is not one "
                "of: REGISTRY_ONLY, ALLOW_ANY"},
        BadCase{"Sidecar", "  ingress:\n  - defaultEndpoint: 127.0.0.1:8080\n",
                "mesh.yaml:6: Sidecar ns/x: spec.ingress[0].port: is required"}));

TEST(ValidationTest, MetadataNameIsRequired) {
  Resources r;
  LoadReport report;
  loadYaml(
      "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {namespace: a}\n"
      "spec: {}\n",
      "m.yaml", &r, &report);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0], "m.yaml:3: Sidecar a/?: metadata.name: is required");
}

}  // namespace
}  // namespace meshnode::istio
