#include <gtest/gtest.h>

#include "agent/istio/loader.h"

namespace meshnode::istio {
namespace {

struct Loaded {
  Resources resources;
  LoadReport report;
};

Loaded load(const std::string& text) {
  Loaded l;
  loadYaml(text, "sec.yaml", &l.resources, &l.report);
  return l;
}

bool has(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

TEST(SecurityLoaderTest, PeerAuthenticationDecodesModesAndPorts) {
  auto l = load(R"(apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: finance, namespace: foo}
spec:
  selector:
    matchLabels: {app: finance}
  mtls: {mode: UNSET}
  portLevelMtls:
    8080: {mode: DISABLE}
    9090: {mode: STRICT}
)");
  EXPECT_TRUE(l.report.errors.empty()) << l.report.errors[0];
  EXPECT_TRUE(l.report.warnings.empty());
  ASSERT_EQ(l.resources.peer_authentications.size(), 1u);
  const auto& pa = l.resources.peer_authentications[0];
  EXPECT_EQ(pa.meta.id(), "foo/finance");
  EXPECT_EQ(pa.meta.line, 1);
  ASSERT_TRUE(pa.selector.has_value());
  EXPECT_EQ(pa.selector->at("app"), "finance");
  EXPECT_EQ(pa.mode, MtlsMode::kUnset);
  EXPECT_EQ(pa.port_level.at(8080), MtlsMode::kDisable);
  EXPECT_EQ(pa.port_level.at(9090), MtlsMode::kStrict);
}

TEST(SecurityLoaderTest, PortLevelMtlsWithoutSelectorIsWarnedAbout) {
  auto l = load(R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec:
  mtls: {mode: STRICT}
  portLevelMtls:
    8080: {mode: DISABLE}
)");
  EXPECT_TRUE(l.report.errors.empty());
  ASSERT_EQ(l.report.warnings.size(), 1u);
  EXPECT_EQ(l.report.warnings[0],
            "sec.yaml:7: PeerAuthentication foo/default: spec.portLevelMtls: applies only to a "
            "policy with a selector, as in Istio; ignored");
  ASSERT_EQ(l.resources.peer_authentications.size(), 1u);
  EXPECT_FALSE(l.resources.peer_authentications[0].selector.has_value());
}

TEST(SecurityLoaderTest, AuthorizationPolicyDecodesEveryRuleField) {
  auto l = load(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin, namespace: foo}
spec:
  selector:
    matchLabels: {app: httpbin, version: v1}
  action: DENY
  rules:
  - from:
    - source:
        principals: [cluster.local/ns/default/sa/sleep]
        notPrincipals: [cluster.local/ns/default/sa/evil]
        requestPrincipals: ["issuer/subject"]
        notRequestPrincipals: ["issuer/bad"]
        namespaces: [test]
        notNamespaces: [prod]
        ipBlocks: [198.18.0.0/16]
        notIpBlocks: [198.18.9.9]
        remoteIpBlocks: ["198.19.0.0/16"]
        notRemoteIpBlocks: ["198.19.1.1"]
    to:
    - operation:
        hosts: [example.com]
        notHosts: [evil.example.com]
        ports: ["8080"]
        notPorts: ["9090"]
        methods: [GET]
        notMethods: [DELETE]
        paths: ["/info*"]
        notPaths: ["/info/secret"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.example.com"]
      notValues: ["https://other.example.com"]
  - {}
)");
  EXPECT_TRUE(l.report.errors.empty()) << l.report.errors[0];
  EXPECT_TRUE(l.report.warnings.empty()) << l.report.warnings[0];
  ASSERT_EQ(l.resources.authorization_policies.size(), 1u);
  const auto& p = l.resources.authorization_policies[0];
  EXPECT_EQ(p.action, security::AuthzAction::kDeny);
  ASSERT_EQ(p.rules.size(), 2u);
  const auto& s = p.rules[0].from.at(0);
  EXPECT_EQ(s.principals, std::vector<std::string>{"cluster.local/ns/default/sa/sleep"});
  EXPECT_EQ(s.not_principals, std::vector<std::string>{"cluster.local/ns/default/sa/evil"});
  EXPECT_EQ(s.request_principals, std::vector<std::string>{"issuer/subject"});
  EXPECT_EQ(s.not_request_principals, std::vector<std::string>{"issuer/bad"});
  EXPECT_EQ(s.namespaces, std::vector<std::string>{"test"});
  EXPECT_EQ(s.not_namespaces, std::vector<std::string>{"prod"});
  EXPECT_EQ(s.ip_blocks, std::vector<std::string>{"198.18.0.0/16"});
  EXPECT_EQ(s.not_ip_blocks, std::vector<std::string>{"198.18.9.9"});
  EXPECT_EQ(s.remote_ip_blocks, std::vector<std::string>{"198.19.0.0/16"});
  EXPECT_EQ(s.not_remote_ip_blocks, std::vector<std::string>{"198.19.1.1"});
  const auto& o = p.rules[0].to.at(0);
  EXPECT_EQ(o.hosts, std::vector<std::string>{"example.com"});
  EXPECT_EQ(o.not_hosts, std::vector<std::string>{"evil.example.com"});
  EXPECT_EQ(o.ports, std::vector<std::string>{"8080"});
  EXPECT_EQ(o.not_ports, std::vector<std::string>{"9090"});
  EXPECT_EQ(o.methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(o.not_methods, std::vector<std::string>{"DELETE"});
  EXPECT_EQ(o.paths, std::vector<std::string>{"/info*"});
  EXPECT_EQ(o.not_paths, std::vector<std::string>{"/info/secret"});
  const auto& w = p.rules[0].when.at(0);
  EXPECT_EQ(w.key, "request.auth.claims[iss]");
  EXPECT_EQ(w.values, std::vector<std::string>{"https://accounts.example.com"});
  EXPECT_EQ(w.not_values, std::vector<std::string>{"https://other.example.com"});
  EXPECT_TRUE(p.rules[1].from.empty() && p.rules[1].to.empty() && p.rules[1].when.empty());
}

TEST(SecurityLoaderTest, AnEmptySpecIsAnAllowNothingPolicy) {
  auto l = load(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-all, namespace: foo}
spec: {}
)");
  EXPECT_TRUE(l.report.errors.empty());
  ASSERT_EQ(l.resources.authorization_policies.size(), 1u);
  EXPECT_EQ(l.resources.authorization_policies[0].action, security::AuthzAction::kAllow);
  EXPECT_TRUE(l.resources.authorization_policies[0].rules.empty());
}

TEST(SecurityLoaderTest, TargetRefsAreWarnedAboutAndMarked) {
  auto l = load(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gw, namespace: foo}
spec:
  targetRefs:
  - {kind: Gateway, group: gateway.networking.k8s.io, name: ingress}
  action: DENY
  rules: [{to: [{operation: {paths: [/admin]}}]}]
)");
  EXPECT_TRUE(l.report.errors.empty());
  ASSERT_EQ(l.report.warnings.size(), 1u);
  EXPECT_EQ(l.report.warnings[0],
            "sec.yaml:6: AuthorizationPolicy foo/gw: spec.targetRefs: names a gateway or "
            "waypoint; not applicable to a host, the policy is not applied here");
  ASSERT_EQ(l.resources.authorization_policies.size(), 1u);
  EXPECT_TRUE(l.resources.authorization_policies[0].has_target_refs);
}

TEST(SecurityLoaderTest, RequestAuthenticationDecodesJwtRules) {
  auto l = load(R"(apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: foo}
spec:
  selector:
    matchLabels: {app: web}
  jwtRules:
  - issuer: https://accounts.example.com
    audiences: [web, api]
    jwksUri: https://accounts.example.com/keys
    fromHeaders:
    - {name: x-jwt-assertion, prefix: "Bearer "}
    fromParams: [token]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - {header: x-sub, claim: sub}
    timeout: 5s
  - issuer: cookie-issuer
    jwks: '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'
    fromCookies: [session]
)");
  EXPECT_TRUE(l.report.errors.empty()) << l.report.errors[0];
  ASSERT_EQ(l.report.warnings.size(), 1u);
  EXPECT_EQ(l.report.warnings[0],
            "sec.yaml:21: RequestAuthentication foo/jwt: spec.jwtRules[1].fromCookies: is not "
            "supported by meshnode; tokens in cookies are not looked for");
  ASSERT_EQ(l.resources.request_authentications.size(), 1u);
  const auto& ra = l.resources.request_authentications[0];
  ASSERT_EQ(ra.jwt_rules.size(), 2u);
  const auto& j = ra.jwt_rules[0];
  EXPECT_EQ(j.issuer, "https://accounts.example.com");
  EXPECT_EQ(j.audiences, (std::vector<std::string>{"web", "api"}));
  EXPECT_EQ(j.jwks_uri, "https://accounts.example.com/keys");
  ASSERT_EQ(j.from_headers.size(), 1u);
  EXPECT_EQ(j.from_headers[0].name, "x-jwt-assertion");
  EXPECT_EQ(j.from_headers[0].prefix, "Bearer ");
  EXPECT_EQ(j.from_params, std::vector<std::string>{"token"});
  EXPECT_EQ(j.output_payload_to_header, "x-jwt-payload");
  EXPECT_TRUE(j.forward_original_token);
  ASSERT_EQ(j.output_claim_to_headers.size(), 1u);
  EXPECT_EQ(j.output_claim_to_headers[0], (std::pair<std::string, std::string>{"x-sub", "sub"}));
  EXPECT_EQ(j.timeout_ms, 5000);
  EXPECT_EQ(ra.jwt_rules[1].from_cookies, std::vector<std::string>{"session"});
  EXPECT_FALSE(ra.jwt_rules[1].jwks.empty());
}

TEST(SecurityLoaderTest, UnknownFieldsAreWarnedAbout) {
  auto l = load(R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec:
  mtls: {mode: STRICT, strict: yes}
)");
  EXPECT_TRUE(l.report.errors.empty());
  EXPECT_TRUE(has(l.report.warnings,
                  "sec.yaml:5: PeerAuthentication foo/default: "
                  "spec.mtls.strict: unknown field, ignored"));
}

TEST(SecurityLoaderTest, ARejectedPolicyKeepsItsLastGoodVersion) {
  auto good = load(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: foo}
spec: {action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}
)");
  auto bad = load(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: foo}
spec: {action: REFUSE}
)");
  ASSERT_EQ(bad.report.rejected, std::vector<std::string>{"AuthorizationPolicy foo/p"});
  keepLastGood(good.resources, bad.report.rejected, &bad.resources);
  ASSERT_EQ(bad.resources.authorization_policies.size(), 1u);
  EXPECT_EQ(bad.resources.authorization_policies[0].action, security::AuthzAction::kDeny);
}

// Every bad input names file, line and field. The spec body starts on line 5.
struct BadCase {
  const char* kind;
  const char* spec;
  const char* expected;  // the start of the error line
};

class SecurityValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(SecurityValidationTest, NamesFileLineAndField) {
  std::string text = std::string("apiVersion: security.istio.io/v1\nkind: ") + GetParam().kind +
                     "\nmetadata: {name: x, namespace: ns}\nspec:\n" + GetParam().spec;
  auto l = load(text);
  ASSERT_FALSE(l.report.errors.empty()) << "accepted:\n" << text;
  EXPECT_EQ(l.report.errors[0].substr(0, std::string(GetParam().expected).size()),
            GetParam().expected);
  EXPECT_TRUE(l.resources.peer_authentications.empty() &&
              l.resources.authorization_policies.empty() &&
              l.resources.request_authentications.empty());
  ASSERT_EQ(l.report.rejected.size(), 1u);
  EXPECT_EQ(l.report.rejected[0], std::string(GetParam().kind) + " ns/x");
}

INSTANTIATE_TEST_SUITE_P(
    PeerAuthentication, SecurityValidationTest,
    ::testing::Values(
        BadCase{"PeerAuthentication", "  mtls: {mode: STRICTER}\n",
                "sec.yaml:5: PeerAuthentication ns/x: spec.mtls.mode: \"STRICTER\" is not one "
                "of: UNSET, DISABLE, PERMISSIVE, STRICT"},
        BadCase{"PeerAuthentication", "  mtls: STRICT\n",
                "sec.yaml:5: PeerAuthentication ns/x: spec.mtls: must be a mapping"},
        BadCase{"PeerAuthentication",
                "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    http: {mode: "
                "DISABLE}\n",
                "sec.yaml:7: PeerAuthentication ns/x: spec.portLevelMtls.http: the key must be a "
                "port from 1 to 65535"},
        BadCase{"PeerAuthentication",
                "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    70000: {mode: "
                "DISABLE}\n",
                "sec.yaml:7: PeerAuthentication ns/x: spec.portLevelMtls.70000: the key must be a "
                "port from 1 to 65535"},
        BadCase{"PeerAuthentication",
                "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    8080: {mode: "
                "OFF}\n",
                "sec.yaml:7: PeerAuthentication ns/x: spec.portLevelMtls.8080.mode: \"OFF\" is "
                "not one of"},
        BadCase{"PeerAuthentication", "  selector: {matchLabels: [a]}\n",
                "sec.yaml:5: PeerAuthentication ns/x: spec.selector.matchLabels: must be a "
                "mapping"}));

INSTANTIATE_TEST_SUITE_P(
    AuthorizationPolicy, SecurityValidationTest,
    ::testing::Values(
        BadCase{"AuthorizationPolicy", "  action: CUSTOM\n  provider: {name: ext-authz}\n",
                "sec.yaml:5: AuthorizationPolicy ns/x: spec.action: CUSTOM (an external "
                "authorizer) is not supported by meshnode"},
        BadCase{"AuthorizationPolicy", "  action: PERMIT\n",
                "sec.yaml:5: AuthorizationPolicy ns/x: spec.action: \"PERMIT\" is not one of: "
                "ALLOW, DENY, AUDIT, CUSTOM"},
        BadCase{"AuthorizationPolicy", "  action: DENY\n  provider: {name: ext-authz}\n",
                "sec.yaml:6: AuthorizationPolicy ns/x: spec.provider: is only valid with action "
                "CUSTOM"},
        BadCase{"AuthorizationPolicy",
                "  selector: {matchLabels: {app: a}}\n  targetRef: {kind: Gateway, name: g}\n",
                "sec.yaml:6: AuthorizationPolicy ns/x: spec.targetRef: cannot be used together "
                "with selector"},
        BadCase{"AuthorizationPolicy", "  rules: {from: []}\n",
                "sec.yaml:5: AuthorizationPolicy ns/x: spec.rules: must be a list"},
        BadCase{"AuthorizationPolicy", "  rules:\n  - from: []\n",
                "sec.yaml:6: AuthorizationPolicy ns/x: spec.rules[0].from: must not be empty "
                "when given"},
        BadCase{"AuthorizationPolicy", "  rules:\n  - from:\n    - {}\n",
                "sec.yaml:7: AuthorizationPolicy ns/x: spec.rules[0].from[0].source: is required"},
        BadCase{"AuthorizationPolicy", "  rules:\n  - from:\n    - source: {}\n",
                "sec.yaml:7: AuthorizationPolicy ns/x: spec.rules[0].from[0].source: must not be "
                "empty"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - from:\n    - source:\n        ipBlocks: [198.18.0.0/16, "
                "nowhere]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].from[0].source.ipBlocks[1]: "
                "\"nowhere\" is not an IP address or CIDR block"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - from:\n    - source:\n        notRemoteIpBlocks: [198.18.0.0/99]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: "
                "spec.rules[0].from[0].source.notRemoteIpBlocks[0]: \"198.18.0.0/99\" is not an "
                "IP address or CIDR block"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - from:\n    - source:\n        principals: [\"\"]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].from[0].source.principals[0]: "
                "must not be empty"},
        BadCase{
            "AuthorizationPolicy",
            "  rules:\n  - from:\n    - source:\n        serviceAccounts: [shop/sleep]\n",
            "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].from[0].source.serviceAccounts: "
            "is not supported by meshnode; use principals"},
        BadCase{"AuthorizationPolicy", "  rules:\n  - to:\n    - operation: {}\n",
                "sec.yaml:7: AuthorizationPolicy ns/x: spec.rules[0].to[0].operation: must not be "
                "empty"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - to:\n    - operation:\n        ports: [\"80\", http]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].to[0].operation.ports[1]: "
                "\"http\" is not a port from 1 to 65535"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - to:\n    - operation:\n        notPorts: [\"0\"]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].to[0].operation.notPorts[0]: "
                "\"0\" is not a port from 1 to 65535"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - to:\n    - operation:\n        paths: [\"/a*b*\"]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].to[0].operation.paths[0]: "},
        BadCase{"AuthorizationPolicy", "  rules:\n  - when:\n    - {values: [a]}\n",
                "sec.yaml:7: AuthorizationPolicy ns/x: spec.rules[0].when[0].key: is required"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - when:\n    - {key: request.time, values: [a]}\n",
                "sec.yaml:7: AuthorizationPolicy ns/x: spec.rules[0].when[0].key: "
                "\"request.time\" is not a supported condition key"},
        BadCase{"AuthorizationPolicy", "  rules:\n  - when:\n    - {key: source.namespace}\n",
                "sec.yaml:7: AuthorizationPolicy ns/x: spec.rules[0].when[0]: needs values or "
                "notValues for \"source.namespace\""},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - when:\n    - key: destination.port\n      notValues: [\"x\"]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].when[0].notValues[0]: \"x\" "
                "is not a port from 1 to 65535"},
        BadCase{"AuthorizationPolicy",
                "  rules:\n  - when:\n    - key: remote.ip\n      values: [somewhere]\n",
                "sec.yaml:8: AuthorizationPolicy ns/x: spec.rules[0].when[0].values[0]: "
                "\"somewhere\" is not an IP address or CIDR block"}));

INSTANTIATE_TEST_SUITE_P(
    RequestAuthentication, SecurityValidationTest,
    ::testing::Values(
        BadCase{"RequestAuthentication", "  jwtRules:\n  - audiences: [a]\n",
                "sec.yaml:6: RequestAuthentication ns/x: spec.jwtRules[0].issuer: is required"},
        BadCase{"RequestAuthentication", "  jwtRules:\n  - {issuer: a}\n  - {issuer: a}\n",
                "sec.yaml:7: RequestAuthentication ns/x: spec.jwtRules[1].issuer: \"a\" is "
                "already used by a rule"},
        BadCase{"RequestAuthentication", "  jwtRules:\n  - {issuer: a, jwksUri: ftp://k/keys}\n",
                "sec.yaml:6: RequestAuthentication ns/x: spec.jwtRules[0].jwksUri: "
                "\"ftp://k/keys\" is not an http or https URL"},
        BadCase{"RequestAuthentication", "  jwtRules:\n  - {issuer: a, jwks: 'not json'}\n",
                "sec.yaml:6: RequestAuthentication ns/x: spec.jwtRules[0].jwks: JWKS is not a "
                "JSON object"},
        BadCase{"RequestAuthentication",
                "  jwtRules:\n  - issuer: a\n    jwks: '{\"keys\":[{\"kty\":\"RSA\"}]}'\n",
                "sec.yaml:7: RequestAuthentication ns/x: spec.jwtRules[0].jwks: keys[0]: "},
        BadCase{"RequestAuthentication",
                "  jwtRules:\n  - issuer: a\n    fromHeaders:\n    - {prefix: 'Bearer '}\n",
                "sec.yaml:8: RequestAuthentication ns/x: spec.jwtRules[0].fromHeaders[0].name: is "
                "required"},
        BadCase{"RequestAuthentication",
                "  jwtRules:\n  - issuer: a\n    fromHeaders:\n    - {name: 'x jwt'}\n",
                "sec.yaml:8: RequestAuthentication ns/x: spec.jwtRules[0].fromHeaders[0].name: "
                "\"x jwt\" is not a header name"},
        BadCase{"RequestAuthentication",
                "  jwtRules:\n  - issuer: a\n    outputClaimToHeaders:\n    - {header: x-sub}\n",
                "sec.yaml:8: RequestAuthentication ns/x: "
                "spec.jwtRules[0].outputClaimToHeaders[0].claim: is required"},
        BadCase{"RequestAuthentication", "  jwtRules:\n  - {issuer: a, timeout: soon}\n",
                "sec.yaml:6: RequestAuthentication ns/x: spec.jwtRules[0].timeout: \"soon\" is not "
                "a duration"},
        BadCase{"RequestAuthentication",
                "  jwtRules:\n  - {issuer: a, forwardOriginalToken: maybe}\n",
                "sec.yaml:6: RequestAuthentication ns/x: spec.jwtRules[0].forwardOriginalToken: "
                "must be true or false"},
        BadCase{"RequestAuthentication", "  jwtRules: {issuer: a}\n",
                "sec.yaml:5: RequestAuthentication ns/x: spec.jwtRules: must be a list"}));

}  // namespace
}  // namespace meshnode::istio
