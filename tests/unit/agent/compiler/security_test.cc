#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/cli/compile_options.h"
#include "agent/compiler/compiler.h"
#include "agent/istio/loader.h"
#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::compiler {
namespace {

using nlohmann::json;

constexpr const char* kEd25519Jwks =
    R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})";

NodeIdentity webNode() {
  NodeIdentity n;
  n.ns = "shop";
  n.ip = "198.18.0.10";
  n.labels = {{"app", "web"}, {"version", "v1"}};
  return n;
}

SecurityInput identity() {
  SecurityInput s;
  s.cert_chain = "/certs/cert-chain.pem";
  s.key = "/certs/key.pem";
  s.root_cert = "/certs/root-cert.pem";
  return s;
}

struct Compiled {
  json security;
  std::vector<std::string> warnings;
  std::shared_ptr<const proxy::Snapshot> parsed;
  std::string error;  // when the compile failed

  bool warned(const std::string& part) const {
    for (const auto& w : warnings)
      if (w.find(part) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> policyNames() const {
    std::vector<std::string> out;
    for (const auto& p : security.value("authorization_policies", json::array()))
      out.push_back(p["namespace"].get<std::string>() + "/" + p["name"].get<std::string>());
    return out;
  }
};

// Loads, compiles, and has the proxy's own snapshot reader accept the result.
Compiled compile(const std::string& yaml, SecurityInput security = identity(),
                 NodeIdentity node = webNode(), CompileOptions options = {}) {
  istio::Resources resources;
  istio::LoadReport report;
  istio::loadYaml(yaml, "sec.yaml", &resources, &report);
  for (const auto& e : report.errors)
    ADD_FAILURE() << e;
  CompileInput in;
  in.resources = &resources;
  in.node = std::move(node);
  in.options = std::move(options);
  in.security = std::move(security);
  Compiled c;
  auto out = compileSnapshot(in);
  if (!out) {
    c.error = out.error().detail;
    return c;
  }
  auto parsed = proxy::parseSnapshot(out->json, "compiled");
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe()) << "\n" << out->json;
  if (parsed.ok()) c.parsed = *parsed;
  c.security = json::parse(out->json)["security"];
  c.warnings = out->warnings;
  return c;
}

std::string pa(const std::string& ns, const std::string& name, const std::string& body) {
  return "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: " +
         name + ", namespace: " + ns + "}\nspec:\n" + body;
}

std::string authz(const std::string& ns, const std::string& name, const std::string& body) {
  return "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: " +
         name + ", namespace: " + ns + "}\nspec:\n" + body;
}

std::string reqauthn(const std::string& ns, const std::string& name, const std::string& body) {
  return "---\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: " +
         name + ", namespace: " + ns + "}\nspec:\n" + body;
}

TEST(SecurityCompileTest, WithoutPoliciesThePeerModeIsPermissiveAndPathsBase) {
  auto c = compile("", SecurityInput{});
  EXPECT_EQ(c.security, (json{{"peer_authentication", {{"mode", "PERMISSIVE"}}},
                              {"path_normalization", "BASE"}}));
  ASSERT_TRUE(c.parsed);
  EXPECT_FALSE(c.parsed->security.hasIdentity());
}

TEST(SecurityCompileTest, IdentityPathsReachTheSnapshot) {
  auto c = compile("");
  EXPECT_EQ(c.security["identity"], (json{{"cert_chain", "/certs/cert-chain.pem"},
                                          {"key", "/certs/key.pem"},
                                          {"root_cert", "/certs/root-cert.pem"}}));
  ASSERT_TRUE(c.parsed);
  EXPECT_EQ(c.parsed->security.key, "/certs/key.pem");
}

TEST(SecurityCompileTest, PathNormalizationOptionIsWritten) {
  CompileOptions o;
  o.path_normalization = "MERGE_SLASHES";
  auto c = compile("", identity(), webNode(), o);
  EXPECT_EQ(c.security["path_normalization"], "MERGE_SLASHES");
  ASSERT_TRUE(c.parsed);
  EXPECT_EQ(c.parsed->security.path_normalization, security::PathNormalization::kMergeSlashes);
}

struct PeerCase {
  const char* name;
  std::string yaml;
  json expected;  // the snapshot's peer_authentication
};

class PeerPrecedenceTest : public ::testing::TestWithParam<PeerCase> {};

TEST_P(PeerPrecedenceTest, ModeFollowsIstioPrecedence) {
  auto c = compile(GetParam().yaml);
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.security["peer_authentication"], GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Levels, PeerPrecedenceTest,
    ::testing::Values(
        PeerCase{"mesh",
                 pa("istio-system", "default", "  mtls: {mode: STRICT}\n"),
                 {{"mode", "STRICT"}}},
        PeerCase{"mesh_unset_is_permissive",
                 pa("istio-system", "default", "  mtls: {mode: UNSET}\n"),
                 {{"mode", "PERMISSIVE"}}},
        PeerCase{"namespace_over_mesh",
                 pa("istio-system", "default", "  mtls: {mode: STRICT}\n") +
                     pa("shop", "default", "  mtls: {mode: PERMISSIVE}\n"),
                 {{"mode", "PERMISSIVE"}}},
        PeerCase{"other_namespace_ignored",
                 pa("istio-system", "default", "  mtls: {mode: STRICT}\n") +
                     pa("other", "default", "  mtls: {mode: DISABLE}\n"),
                 {{"mode", "STRICT"}}},
        PeerCase{"namespace_unset_inherits_mesh",
                 pa("istio-system", "default", "  mtls: {mode: STRICT}\n") +
                     pa("shop", "default", "  mtls: {mode: UNSET}\n"),
                 {{"mode", "STRICT"}}},
        PeerCase{"workload_over_namespace",
                 pa("shop", "default", "  mtls: {mode: STRICT}\n") +
                     pa("shop", "web",
                        "  selector: {matchLabels: {app: web}}\n  mtls: {mode: DISABLE}\n"),
                 {{"mode", "DISABLE"}}},
        PeerCase{
            "selector_not_matching",
            pa("shop", "default", "  mtls: {mode: STRICT}\n") +
                pa("shop", "db", "  selector: {matchLabels: {app: db}}\n  mtls: {mode: DISABLE}\n"),
            {{"mode", "STRICT"}}},
        PeerCase{"selector_needs_every_label",
                 pa("shop", "default", "  mtls: {mode: STRICT}\n") +
                     pa("shop", "web2",
                        "  selector: {matchLabels: {app: web, version: v2}}\n"
                        "  mtls: {mode: DISABLE}\n"),
                 {{"mode", "STRICT"}}},
        PeerCase{"workload_unset_inherits_and_ports",
                 pa("istio-system", "default", "  mtls: {mode: STRICT}\n") +
                     pa("shop", "web",
                        "  selector: {matchLabels: {app: web}}\n  mtls: {mode: UNSET}\n"
                        "  portLevelMtls:\n    8080: {mode: DISABLE}\n    9090: {mode: UNSET}\n"),
                 {{"mode", "STRICT"}, {"port_modes", {{"8080", "DISABLE"}, {"9090", "STRICT"}}}}},
        PeerCase{"port_level_without_selector_ignored",
                 pa("shop", "default",
                    "  mtls: {mode: STRICT}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n"),
                 {{"mode", "STRICT"}}},
        PeerCase{"labels_of_another_workload",
                 pa("shop", "billing",
                    "  selector: {matchLabels: {team: payments}}\n  mtls: {mode: DISABLE}\n"),
                 {{"mode", "PERMISSIVE"}}}));

TEST(SecurityCompileTest, TheWorkloadGroupsTemplateLabelsSelectPolicies) {
  std::string yaml = R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: billing, namespace: shop}
spec:
  metadata: {labels: {team: payments}}
  template: {serviceAccount: billing, labels: {tier: back}}
)" + pa("shop", "billing",
        "  selector: {matchLabels: {team: payments, tier: back}}\n  mtls: {mode: STRICT}\n");
  NodeIdentity node = webNode();
  node.workload_group = "billing";
  auto c = compile(yaml, identity(), node);
  EXPECT_EQ(c.security["peer_authentication"]["mode"], "STRICT");
}

TEST(SecurityCompileTest, SeveralAtOneLevelFirstByNameWinsWithAWarning) {
  auto c = compile(pa("shop", "zeta", "  mtls: {mode: DISABLE}\n") +
                   pa("shop", "alpha", "  mtls: {mode: STRICT}\n"));
  EXPECT_EQ(c.security["peer_authentication"]["mode"], "STRICT");
  EXPECT_TRUE(
      c.warned("PeerAuthentication shop/zeta (sec.yaml:2) is ignored: shop/alpha also "
               "applies at the namespace level"));
}

TEST(SecurityCompileTest, ASelectorInTheRootNamespaceIsIgnoredForOtherNamespaces) {
  auto c = compile(
      pa("istio-system", "web", "  selector: {matchLabels: {app: web}}\n  mtls: {mode: STRICT}\n"));
  EXPECT_EQ(c.security["peer_authentication"]["mode"], "PERMISSIVE");
  EXPECT_TRUE(c.warned("a selector in the root namespace applies to no workload"));
}

TEST(SecurityCompileTest, StrictWithoutIdentityFailsTheCompileNamingThePolicy) {
  auto c = compile(pa("istio-system", "default", "  mtls: {mode: STRICT}\n"), SecurityInput{});
  EXPECT_EQ(c.error,
            "PeerAuthentication at sec.yaml:2 asks this host for STRICT mTLS, but the host has no "
            "mesh identity (cert-chain.pem, key.pem, root-cert.pem)");
  auto relaxed = compile(pa("istio-system", "default", "  mtls: {mode: STRICT}\n") +
                             pa("shop", "default", "  mtls: {mode: PERMISSIVE}\n"),
                         SecurityInput{});
  EXPECT_TRUE(relaxed.error.empty()) << relaxed.error;
}

TEST(SecurityCompileTest, AuthorizationPoliciesApplyByNamespaceAndSelector) {
  std::string rule = "  action: DENY\n  rules: [{to: [{operation: {paths: [/admin]}}]}]\n";
  auto c = compile(
      authz("istio-system", "mesh-wide", rule) +
      authz("istio-system", "mesh-web", "  selector: {matchLabels: {app: web}}\n" + rule) +
      authz("istio-system", "mesh-db", "  selector: {matchLabels: {app: db}}\n" + rule) +
      authz("shop", "ns-wide", rule) +
      authz("shop", "web", "  selector: {matchLabels: {app: web}}\n" + rule) +
      authz("shop", "db", "  selector: {matchLabels: {app: db}}\n" + rule) +
      authz("other", "elsewhere", rule) +
      authz("shop", "gateway",
            "  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: g}\n" + rule));
  EXPECT_EQ(c.policyNames(),
            (std::vector<std::string>{"istio-system/mesh-web", "istio-system/mesh-wide",
                                      "shop/ns-wide", "shop/web"}));
}

TEST(SecurityCompileTest, AuthorizationPolicyJsonIsTheSnapshotShape) {
  auto c = compile(authz("shop", "web", R"(  selector: {matchLabels: {app: web}}
  rules:
  - from:
    - source: {principals: [cluster.local/ns/shop/sa/sleep], notNamespaces: [test]}
    to:
    - operation: {methods: [GET], paths: ["/api/*"], ports: ["8080"]}
    when:
    - {key: "request.headers[x-token]", values: [a]}
  - {}
)"));
  ASSERT_EQ(c.security["authorization_policies"].size(), 1u);
  EXPECT_EQ(c.security["authorization_policies"][0], json::parse(R"({
    "namespace": "shop", "name": "web", "origin": "sec.yaml:2", "action": "ALLOW",
    "rules": [{"from": [{"principals": ["cluster.local/ns/shop/sa/sleep"],
                         "not_namespaces": ["test"]}],
               "to": [{"methods": ["GET"], "paths": ["/api/*"], "ports": ["8080"]}],
               "when": [{"key": "request.headers[x-token]", "values": ["a"]}]},
              {}]})"));
  ASSERT_TRUE(c.parsed);
  ASSERT_TRUE(c.parsed->security.authz);
}

TEST(SecurityCompileTest, JwtRulesInlineKeysOrWaitForFetchedOnes) {
  std::string yaml = reqauthn("shop", "jwt", R"(  selector: {matchLabels: {app: web}}
  jwtRules:
  - issuer: inline
    jwks: ')" + std::string(kEd25519Jwks) + R"('
    audiences: [web]
    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
    outputClaimToHeaders: [{header: x-sub, claim: sub}]
    forwardOriginalToken: true
    outputPayloadToHeader: x-payload
  - issuer: fetched
    jwksUri: https://issuer.example/keys
    fromParams: [token]
  - issuer: unfetched
    jwksUri: https://other.example/keys
  - issuer: cookies
    jwksUri: https://issuer.example/keys
    fromCookies: [session]
)") + reqauthn("shop", "db",
               "  selector: {matchLabels: {app: db}}\n  jwtRules: [{issuer: db, jwksUri: "
               "https://db.example/keys}]\n");
  SecurityInput sec = identity();
  sec.jwks_by_uri["https://issuer.example/keys"] = kEd25519Jwks;
  auto c = compile(yaml, sec);
  const json& rules = c.security["jwt_rules"];
  ASSERT_EQ(rules.size(), 4u) << rules.dump(2);
  EXPECT_EQ(rules[0],
            (json{{"issuer", "inline"},
                  {"audiences", {"web"}},
                  {"jwks", kEd25519Jwks},
                  {"from_headers", {{{"name", "x-jwt"}, {"prefix", "Bearer "}}}},
                  {"forward_original_token", true},
                  {"output_payload_to_header", "x-payload"},
                  {"output_claim_to_headers", {{{"header", "x-sub"}, {"claim", "sub"}}}}}));
  EXPECT_EQ(rules[1],
            (json{{"issuer", "fetched"}, {"jwks", kEd25519Jwks}, {"from_params", {"token"}}}));
  EXPECT_EQ(rules[2], (json{{"issuer", "unfetched"}, {"jwks", R"({"keys":[]})"}}));
  // Cookies only: no header or parameter is looked in, rather than the defaults.
  EXPECT_EQ(rules[3]["from_headers"], json::array());
  EXPECT_FALSE(rules[3].contains("from_params"));
  EXPECT_TRUE(c.warned("issuer unfetched: no keys fetched yet from https://other.example/keys"));
  ASSERT_TRUE(c.parsed);
  const auto& parsed = c.parsed->security.jwt_rules;
  ASSERT_EQ(parsed.size(), 4u);
  EXPECT_TRUE(parsed[0].provider.jwks);
  EXPECT_TRUE(parsed[1].provider.jwks);
  // The proxy accepts the empty key set as a rule with no key: its tokens are refused.
  EXPECT_FALSE(parsed[2].provider.jwks);
  EXPECT_TRUE(parsed[3].locations.headers.empty() && parsed[3].locations.params.empty());
}

TEST(SecurityCompileTest, AnUnusableFetchedDocumentRefusesTokensInstead) {
  SecurityInput sec = identity();
  sec.jwks_by_uri["https://issuer.example/keys"] = "<html>not found</html>";
  auto c = compile(
      reqauthn("shop", "jwt", "  jwtRules: [{issuer: i, jwksUri: https://issuer.example/keys}]\n"),
      sec);
  EXPECT_EQ(c.security["jwt_rules"][0]["jwks"], R"({"keys":[]})");
  EXPECT_TRUE(c.warned("the document from https://issuer.example/keys is not usable"));
}

TEST(SecurityCompileTest, JwksUrisListsOnlyApplicableUnfetchedRules) {
  istio::Resources resources;
  istio::LoadReport report;
  istio::loadYaml(
      reqauthn("istio-system", "mesh",
               "  jwtRules: [{issuer: m, jwksUri: https://m.example/k}]\n") +
          reqauthn("shop", "web",
                   "  selector: {matchLabels: {app: web}}\n  jwtRules:\n"
                   "  - {issuer: a, jwksUri: https://a.example/k}\n"
                   "  - {issuer: b, jwksUri: https://m.example/k}\n") +
          reqauthn("shop", "db",
                   "  selector: {matchLabels: {app: db}}\n"
                   "  jwtRules: [{issuer: d, jwksUri: https://d.example/k}]\n") +
          reqauthn("other", "o", "  jwtRules: [{issuer: o, jwksUri: https://o.example/k}]\n"),
      "sec.yaml", &resources, &report);
  ASSERT_TRUE(report.errors.empty()) << report.errors[0];
  EXPECT_EQ(jwksUris(resources, webNode(), CompileOptions{}),
            (std::vector<std::string>{"https://a.example/k", "https://m.example/k"}));
}

TEST(SecurityCompileTest, CompileCommandTakesCertsDirAndPathNormalization) {
  std::vector<std::string> args = {
      "compile",   "--config-dir", "mesh",        "--node-ns",   "shop",
      "--node-ip", "198.18.0.1",   "--certs-dir", "/etc/certs/", "--path-normalization",
      "NONE"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  auto o = agent::cli::parseCompileOptions(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->security.cert_chain, "/etc/certs/cert-chain.pem");
  EXPECT_EQ(o->security.key, "/etc/certs/key.pem");
  EXPECT_EQ(o->security.root_cert, "/etc/certs/root-cert.pem");
  EXPECT_EQ(o->mesh.path_normalization, "NONE");
  args[10] = "SOMETIMES";
  argv.clear();
  for (auto& a : args)
    argv.push_back(a.data());
  auto bad = agent::cli::parseCompileOptions(static_cast<int>(argv.size()), argv.data());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().detail,
            "compile: --path-normalization: \"SOMETIMES\" is not one of NONE, BASE, MERGE_SLASHES, "
            "DECODE_AND_MERGE_SLASHES");
}

}  // namespace
}  // namespace meshnode::compiler
