#include "security/authz_engine.h"

#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "security/path_normalization.h"

namespace meshnode::security {
namespace {

using Mutate = std::function<void(AuthzRequest&)>;

AuthzPolicy policy(const char* name, AuthzAction action, std::vector<AuthzRule> rules) {
  AuthzPolicy p;
  p.ns = "foo";
  p.name = name;
  p.action = action;
  p.rules = std::move(rules);
  return p;
}

AuthzRule from(AuthzSource s) {
  return AuthzRule{{std::move(s)}, {}, {}};
}
AuthzRule to(AuthzOperation o) {
  return AuthzRule{{}, {std::move(o)}, {}};
}
AuthzRule when(std::string key, std::vector<std::string> values,
               std::vector<std::string> not_values = {}) {
  return AuthzRule{
      {}, {}, {AuthzCondition{std::move(key), std::move(values), std::move(not_values)}}};
}

JwtClaims claims(const char* json_text) {
  return JwtClaims(std::make_shared<const nlohmann::json>(nlohmann::json::parse(json_text)));
}

// curl from the sleep workload of namespace foo to httpbin.foo:8000, GET /ip, over mTLS.
AuthzRequest baseRequest() {
  AuthzRequest r;
  r.source_principal = "cluster.local/ns/foo/sa/sleep";
  r.source_namespace = "foo";
  r.source_ip = "198.18.0.10";
  r.remote_ip = "198.18.0.10";
  r.destination_ip = "198.18.0.20";
  r.destination_port = 8000;
  r.sni = "outbound_.8000_._.httpbin.foo.svc.cluster.local";
  r.host = "httpbin.foo:8000";
  r.method = "GET";
  r.path = "/ip";
  r.headers = {{":authority", "httpbin.foo:8000"}, {"user-agent", "curl/7.88.1"}};
  return r;
}

struct Case {
  const char* name;
  std::vector<AuthzPolicy> policies;
  Mutate mutate;
  bool allowed;
  const char* decided_by;  // "" when no policy decided
  bool audit = false;
};

void none(AuthzRequest&) {}

const AuthzAction kAllow = AuthzAction::kAllow;
const AuthzAction kDeny = AuthzAction::kDeny;
const AuthzAction kAudit = AuthzAction::kAudit;

std::vector<Case> cases() {
  // Istio's reference example: ALLOW GET from sleep or from namespace dev, with a Google JWT.
  AuthzPolicy reference = policy(
      "httpbin", kAllow,
      {AuthzRule{
          {AuthzSource{.principals = {"cluster.local/ns/default/sa/sleep"}},
           AuthzSource{.namespaces = {"dev"}}},
          {AuthzOperation{.methods = {"GET"}}},
          {AuthzCondition{"request.auth.claims[iss]", {"https://accounts.google.com"}, {}}}}});
  Mutate google_jwt = [](AuthzRequest& r) {
    r.request_principal = "https://accounts.google.com/alice";
    r.claims = claims(R"({"iss":"https://accounts.google.com","sub":"alice"})");
  };
  return {
      // --- no policy, allow-nothing, allow-all, deny-all
      {"no policies allow", {}, none, true, ""},
      {"allow-nothing (ALLOW, no rules) denies",
       {policy("allow-nothing", kAllow, {})},
       none,
       false,
       ""},
      {"allow-all (rules: [{}]) allows",
       {policy("allow-all", kAllow, {AuthzRule{}})},
       none,
       true,
       "foo/allow-all"},
      {"deny-all (DENY rules: [{}]) denies",
       {policy("deny-all", kDeny, {AuthzRule{}})},
       none,
       false,
       "foo/deny-all"},
      {"DENY without rules matches nothing", {policy("deny-none", kDeny, {})}, none, true, ""},
      {"deny beats allow-all",
       {policy("allow-all", kAllow, {AuthzRule{}}), policy("deny-all", kDeny, {AuthzRule{}})},
       none,
       false,
       "foo/deny-all"},
      // --- Istio's reference example
      {"reference: sleep of default with Google JWT, GET",
       {reference},
       [&](AuthzRequest& r) {
         google_jwt(r);
         r.source_principal = "cluster.local/ns/default/sa/sleep";
         r.source_namespace = "default";
       },
       true,
       "foo/httpbin"},
      {"reference: namespace dev with Google JWT, GET",
       {reference},
       [&](AuthzRequest& r) {
         google_jwt(r);
         r.source_principal = "cluster.local/ns/dev/sa/any";
         r.source_namespace = "dev";
       },
       true,
       "foo/httpbin"},
      {"reference: POST is denied",
       {reference},
       [&](AuthzRequest& r) {
         google_jwt(r);
         r.source_namespace = "dev";
         r.method = "POST";
       },
       false,
       ""},
      {"reference: no JWT is denied",
       {reference},
       [](AuthzRequest& r) { r.source_namespace = "dev"; },
       false,
       ""},
      {"reference: other namespace is denied", {reference}, google_jwt, false, ""},
      // --- sources
      {"principals exact",
       {policy("p", kAllow, {from({.principals = {"cluster.local/ns/foo/sa/sleep"}})})},
       none,
       true,
       "foo/p"},
      {"principals prefix wildcard",
       {policy("p", kAllow, {from({.principals = {"cluster.local/ns/foo/*"}})})},
       none,
       true,
       "foo/p"},
      {"principals suffix wildcard",
       {policy("p", kAllow, {from({.principals = {"*/sa/sleep"}})})},
       none,
       true,
       "foo/p"},
      {"principals * needs mTLS (plaintext denied)",
       {policy("p", kAllow, {from({.principals = {"*"}})})},
       [](AuthzRequest& r) { r.source_principal.clear(); },
       false,
       ""},
      {"DENY notPrincipals * denies plaintext",
       {policy("require-mtls", kDeny, {from({.not_principals = {"*"}})})},
       [](AuthzRequest& r) { r.source_principal.clear(); },
       false,
       "foo/require-mtls"},
      {"DENY notPrincipals * lets mTLS through",
       {policy("require-mtls", kDeny, {from({.not_principals = {"*"}})})},
       none,
       true,
       ""},
      {"DENY notNamespaces foo lets foo in",
       {policy("ns-only", kDeny, {from({.not_namespaces = {"foo"}})})},
       none,
       true,
       ""},
      {"DENY notNamespaces foo denies bar",
       {policy("ns-only", kDeny, {from({.not_namespaces = {"foo"}})})},
       [](AuthzRequest& r) { r.source_namespace = "bar"; },
       false,
       "foo/ns-only"},
      {"requestPrincipals * requires a JWT",
       {policy("require-jwt", kAllow, {from({.request_principals = {"*"}})})},
       none,
       false,
       ""},
      {"requestPrincipals * with a JWT",
       {policy("require-jwt", kAllow, {from({.request_principals = {"*"}})})},
       google_jwt,
       true,
       "foo/require-jwt"},
      {"notRequestPrincipals in DENY denies tokenless",
       {policy("deny-no-jwt", kDeny, {from({.not_request_principals = {"*"}})})},
       none,
       false,
       "foo/deny-no-jwt"},
      {"requestPrincipals exact iss/sub",
       {policy("p", kAllow, {from({.request_principals = {"https://accounts.google.com/alice"}})})},
       google_jwt,
       true,
       "foo/p"},
      {"ipBlocks CIDR denies",
       {policy("block", kDeny, {from({.ip_blocks = {"198.18.0.0/24"}})})},
       none,
       false,
       "foo/block"},
      {"ipBlocks single address not matching",
       {policy("block", kDeny, {from({.ip_blocks = {"198.18.1.7"}})})},
       none,
       true,
       ""},
      {"notIpBlocks allows only the listed range",
       {policy("p", kAllow, {from({.not_ip_blocks = {"198.18.0.0/24"}})})},
       none,
       false,
       ""},
      {"ipBlocks IPv6 and IPv4-mapped peer",
       {policy("p", kAllow, {from({.ip_blocks = {"2001:db8::/32", "198.18.0.10"}})})},
       [](AuthzRequest& r) { r.source_ip = "::ffff:198.18.0.10"; },
       true,
       "foo/p"},
      {"remoteIpBlocks uses the original client",
       {policy("block", kDeny, {from({.remote_ip_blocks = {"198.19.0.0/16"}})})},
       [](AuthzRequest& r) { r.remote_ip = "198.19.5.5"; },
       false,
       "foo/block"},
      {"notRemoteIpBlocks",
       {policy("p", kAllow, {from({.not_remote_ip_blocks = {"198.19.0.0/16"}})})},
       none,
       true,
       "foo/p"},
      {"fields of one source are ANDed",
       {policy("p", kAllow, {from({.namespaces = {"foo"}, .ip_blocks = {"198.18.9.0/24"}})})},
       none,
       false,
       ""},
      // --- operations
      {"hosts exact, case-insensitive, port ignored",
       {policy("p", kAllow, {to({.hosts = {"HTTPBIN.foo"}})})},
       none,
       true,
       "foo/p"},
      {"hosts suffix wildcard",
       {policy("p", kAllow, {to({.hosts = {"*.example.com"}})})},
       [](AuthzRequest& r) { r.host = "api.example.com"; },
       true,
       "foo/p"},
      {"notHosts",
       {policy("p", kDeny, {to({.not_hosts = {"httpbin.foo"}})})},
       [](AuthzRequest& r) { r.host = "other.foo"; },
       false,
       "foo/p"},
      {"ports", {policy("p", kAllow, {to({.ports = {"8000"}})})}, none, true, "foo/p"},
      {"notPorts",
       {policy("p", kDeny, {to({.not_ports = {"8000", "9000"}})})},
       [](AuthzRequest& r) { r.destination_port = 8080; },
       false,
       "foo/p"},
      {"methods",
       {policy("p", kAllow, {to({.methods = {"GET", "HEAD"}})})},
       [](AuthzRequest& r) { r.method = "DELETE"; },
       false,
       ""},
      {"notMethods",
       {policy("p", kDeny, {to({.not_methods = {"GET"}})})},
       [](AuthzRequest& r) { r.method = "POST"; },
       false,
       "foo/p"},
      {"paths prefix",
       {policy("p", kAllow, {to({.paths = {"/api/*"}})})},
       [](AuthzRequest& r) { r.path = "/api/v1/books"; },
       true,
       "foo/p"},
      {"paths suffix",
       {policy("p", kAllow, {to({.paths = {"*/info"}})})},
       [](AuthzRequest& r) { r.path = "/status/info"; },
       true,
       "foo/p"},
      {"paths are case-sensitive",
       {policy("p", kAllow, {to({.paths = {"/ip"}})})},
       [](AuthzRequest& r) { r.path = "/IP"; },
       false,
       ""},
      {"paths template {*}",
       {policy("p", kAllow, {to({.paths = {"/books/{*}/reviews"}})})},
       [](AuthzRequest& r) { r.path = "/books/42/reviews"; },
       true,
       "foo/p"},
      {"paths template {*} is one segment",
       {policy("p", kAllow, {to({.paths = {"/books/{*}/reviews"}})})},
       [](AuthzRequest& r) { r.path = "/books/4/2/reviews"; },
       false,
       ""},
      {"paths template {**}",
       {policy("p", kAllow, {to({.paths = {"/static/{**}"}})})},
       [](AuthzRequest& r) { r.path = "/static/css/site.css"; },
       true,
       "foo/p"},
      {"notPaths",
       {policy("p", kAllow, {to({.methods = {"GET"}, .not_paths = {"/admin*"}})})},
       [](AuthzRequest& r) { r.path = "/admin/users"; },
       false,
       ""},
      {"to entries are ORed",
       {policy("p", kAllow,
               {AuthzRule{
                   {}, {AuthzOperation{.paths = {"/x"}}, AuthzOperation{.paths = {"/ip"}}}, {}}})},
       none,
       true,
       "foo/p"},
      // --- conditions
      {"request.headers values",
       {policy("p", kAllow, {when("request.headers[User-Agent]", {"curl/*"})})},
       none,
       true,
       "foo/p"},
      {"request.headers notValues",
       {policy("p", kDeny, {when("request.headers[x-env]", {}, {"prod"})})},
       [](AuthzRequest& r) { r.headers.emplace_back("x-env", "staging"); },
       false,
       "foo/p"},
      {"repeated header is matched as its values joined with ','",
       {policy("p", kAllow, {when("request.headers[x-user]", {"admin"})})},
       [](AuthzRequest& r) {
         r.headers.emplace_back("x-user", "evil");
         r.headers.emplace_back("x-user", "admin");
       },
       false,
       ""},
      {"remote.ip falls back to the peer without X-Forwarded-For",
       {policy("p", kDeny, {from({.remote_ip_blocks = {"198.18.0.10"}})})},
       [](AuthzRequest& r) { r.remote_ip.clear(); },
       false,
       "foo/p"},
      {"request.headers absent does not match values",
       {policy("p", kAllow, {when("request.headers[x-token]", {"*"})})},
       none,
       false,
       ""},
      {"source.ip condition",
       {policy("p", kAllow, {when("source.ip", {"198.18.0.0/16"})})},
       none,
       true,
       "foo/p"},
      {"remote.ip condition",
       {policy("p", kDeny, {when("remote.ip", {"198.18.0.10"})})},
       none,
       false,
       "foo/p"},
      {"source.namespace condition",
       {policy("p", kAllow, {when("source.namespace", {"foo", "bar"})})},
       none,
       true,
       "foo/p"},
      {"source.principal condition",
       {policy("p", kAllow, {when("source.principal", {"cluster.local/ns/foo/sa/sleep"})})},
       none,
       true,
       "foo/p"},
      {"request.auth.principal condition",
       {policy("p", kAllow, {when("request.auth.principal", {"https://accounts.google.com/*"})})},
       google_jwt,
       true,
       "foo/p"},
      {"request.auth.audiences condition",
       {policy("p", kAllow, {when("request.auth.audiences", {"bookinfo.com"})})},
       [](AuthzRequest& r) { r.claims = claims(R"({"aud":["x","bookinfo.com"]})"); },
       true,
       "foo/p"},
      {"request.auth.presenter condition",
       {policy("p", kAllow, {when("request.auth.presenter", {"frontend"})})},
       [](AuthzRequest& r) { r.claims = claims(R"({"azp":"frontend"})"); },
       true,
       "foo/p"},
      {"request.auth.claims list claim",
       {policy("p", kAllow, {when("request.auth.claims[groups]", {"admin"})})},
       [](AuthzRequest& r) { r.claims = claims(R"({"groups":["dev","admin"]})"); },
       true,
       "foo/p"},
      {"request.auth.claims nested claim",
       {policy("p", kAllow, {when("request.auth.claims[realm][role]", {"owner"})})},
       [](AuthzRequest& r) { r.claims = claims(R"({"realm":{"role":"owner"}})"); },
       true,
       "foo/p"},
      {"request.auth.claims notValues",
       {policy("p", kDeny, {when("request.auth.claims[groups]", {}, {"admin"})})},
       [](AuthzRequest& r) { r.claims = claims(R"({"groups":["dev"]})"); },
       false,
       "foo/p"},
      {"destination.ip condition",
       {policy("p", kAllow, {when("destination.ip", {"198.18.0.20/32"})})},
       none,
       true,
       "foo/p"},
      {"destination.port condition",
       {policy("p", kDeny, {when("destination.port", {"8000"})})},
       none,
       false,
       "foo/p"},
      {"connection.sni condition",
       {policy("p", kAllow, {when("connection.sni", {"*.httpbin.foo.svc.cluster.local"})})},
       none,
       true,
       "foo/p"},
      {"conditions are ANDed",
       {policy("p", kAllow,
               {AuthzRule{{},
                          {},
                          {AuthzCondition{"source.namespace", {"foo"}, {}},
                           AuthzCondition{"destination.port", {"9000"}, {}}}}})},
       none,
       false,
       ""},
      // --- AUDIT
      {"AUDIT marks and does not decide",
       {policy("audit-ip", kAudit, {to({.paths = {"/ip"}})})},
       none,
       true,
       "",
       true},
      {"AUDIT with ALLOW",
       {policy("audit-all", kAudit, {AuthzRule{}}),
        policy("allow-get", kAllow, {to({.methods = {"GET"}})})},
       none,
       true,
       "foo/allow-get",
       true},
      {"AUDIT not matching",
       {policy("audit-admin", kAudit, {to({.paths = {"/admin"}})})},
       none,
       true,
       "",
       false},
      // --- TCP
      {"TCP: ALLOW on port matches",
       {policy("tcp", kAllow, {to({.ports = {"8000"}})})},
       [](AuthzRequest& r) { r.is_http = false; },
       true,
       "foo/tcp"},
      {"TCP: ALLOW rule with HTTP-only methods never matches",
       {policy("tcp", kAllow, {to({.ports = {"8000"}, .methods = {"GET"}})})},
       [](AuthzRequest& r) { r.is_http = false; },
       false,
       ""},
      {"TCP: DENY rule ignores HTTP-only methods and denies the port",
       {policy("tcp", kDeny, {to({.ports = {"8000"}, .methods = {"GET"}})})},
       [](AuthzRequest& r) {
         r.is_http = false;
         r.method.clear();
       },
       false,
       "foo/tcp"},
      {"TCP: DENY on another port",
       {policy("tcp", kDeny, {to({.ports = {"9000"}, .methods = {"GET"}})})},
       [](AuthzRequest& r) { r.is_http = false; },
       true,
       ""},
      {"TCP: principals still apply",
       {policy("tcp", kAllow, {from({.principals = {"cluster.local/ns/foo/sa/sleep"}})})},
       [](AuthzRequest& r) { r.is_http = false; },
       true,
       "foo/tcp"},
  };
}

TEST(AuthzEngine, IstioDocumentedBehaviour) {
  std::vector<Case> table = cases();
  EXPECT_GE(table.size(), 40u);
  for (const Case& c : table) {
    auto engine = AuthzEngine::compile(c.policies);
    ASSERT_TRUE(engine.ok()) << c.name << ": " << engine.error().describe();
    AuthzRequest r = baseRequest();
    c.mutate(r);
    AuthzDecision d = engine->evaluate(r);
    EXPECT_EQ(d.allowed, c.allowed) << c.name << ": " << d.describe();
    EXPECT_EQ(d.policy, c.decided_by) << c.name << ": " << d.describe();
    EXPECT_EQ(d.audit, c.audit) << c.name << ": " << d.describe();
  }
}

// DENY /admin and everything under it; attackers spell /admin differently.
struct Bypass {
  const char* raw_path;
  // Whether the DENY policy catches it under NONE, BASE, MERGE_SLASHES,
  // DECODE_AND_MERGE_SLASHES.
  bool denied[4];
};

TEST(AuthzEngine, PathNormalizationDefeatsBypassAttempts) {
  auto engine =
      AuthzEngine::compile({policy("deny-admin", kDeny, {to({.paths = {"/admin", "/admin/*"}})})});
  ASSERT_TRUE(engine.ok());
  const PathNormalization modes[4] = {PathNormalization::kNone, PathNormalization::kBase,
                                      PathNormalization::kMergeSlashes,
                                      PathNormalization::kDecodeAndMergeSlashes};
  const Bypass attempts[] = {
      {"/admin", {true, true, true, true}},
      {"/admin/users", {true, true, true, true}},
      {"/public/../admin", {false, true, true, true}},
      {"/./admin", {false, true, true, true}},
      {"/%61dmin", {false, true, true, true}},
      {"/%2e%2e/admin", {false, true, true, true}},
      {"/public/%2E%2E/admin", {false, true, true, true}},
      {"/admin/./users/..", {true, true, true, true}},
      {"/\\admin", {false, false, true, true}},
      // Istio's BASE does not merge slashes; MERGE_SLASHES is the mitigation of CVE-2021-31920.
      {"//admin", {false, false, true, true}},
      {"/%2Fadmin", {false, false, false, true}},
      {"/public%2F..%2Fadmin", {false, false, false, true}},
      {"/public/..%5Cadmin", {false, false, false, true}},
      {"/ADMIN", {false, false, false, false}},
  };
  for (const Bypass& b : attempts) {
    for (int m = 0; m < 4; ++m) {
      auto path = normalizePath(b.raw_path, modes[m]);
      ASSERT_TRUE(path.ok()) << b.raw_path << ": " << path.error().describe();
      AuthzRequest r = baseRequest();
      r.path = *path;
      bool denied = !engine->evaluate(r).allowed;
      EXPECT_EQ(denied, b.denied[m])
          << b.raw_path << " under " << toString(modes[m]) << " normalized to " << *path;
    }
  }
}

TEST(AuthzEngine, CompileErrorsNameThePolicyAndField) {
  auto expect_error = [](AuthzPolicy p, const std::string& text) {
    p.origin = "policies.yaml:7";
    auto engine = AuthzEngine::compile({p});
    ASSERT_FALSE(engine.ok()) << text;
    EXPECT_NE(engine.error().detail.find(text), std::string::npos) << engine.error().detail;
    EXPECT_NE(engine.error().detail.find("policy foo/bad (policies.yaml:7)"), std::string::npos)
        << engine.error().detail;
  };
  expect_error(policy("bad", AuthzAction::kCustom, {AuthzRule{}}),
               "action: CUSTOM (external authorization) is not supported");
  expect_error(policy("bad", kAllow, {AuthzRule{}, from({.ip_blocks = {"10.0.0/8"}})}),
               "rules[1].from[0].source.ipBlocks[0]: invalid IP address or CIDR '10.0.0/8'");
  expect_error(policy("bad", kAllow, {from({.not_remote_ip_blocks = {"198.18.0.0/33"}})}),
               "source.notRemoteIpBlocks[0]");
  expect_error(policy("bad", kAllow, {to({.ports = {"http"}})}),
               "rules[0].to[0].operation.ports[0]: invalid port 'http'");
  expect_error(policy("bad", kAllow, {to({.paths = {"/a/*/b"}})}),
               "operation.paths[0]: '/a/*/b': '*' is allowed only at the start or the end");
  expect_error(policy("bad", kAllow, {to({.paths = {"/a/{**}/b/{**}"}})}), "only once");
  expect_error(policy("bad", kAllow, {to({.paths = {"/a/x{*}"}})}), "whole path segment");
  expect_error(policy("bad", kAllow, {when("request.regex.headers[x]", {"y"})}),
               "rules[0].when[0].key: unknown or unsupported condition key");
  expect_error(policy("bad", kAllow, {when("experimental.envoy.filters.a[b]", {"y"})}),
               "unsupported condition key");
  expect_error(policy("bad", kAllow, {when("source.ip", {})}), "needs values or notValues");
}

TEST(PathNormalization, ParsesMeshConfigNames) {
  EXPECT_EQ(parsePathNormalization("DEFAULT").value(), PathNormalization::kBase);
  EXPECT_EQ(parsePathNormalization("MERGE_SLASHES").value(), PathNormalization::kMergeSlashes);
  EXPECT_FALSE(parsePathNormalization("merge_slashes").ok());
}

TEST(PathNormalization, RewritesAsIstioDocuments) {
  struct Row {
    const char* in;
    PathNormalization mode;
    const char* out;
  };
  for (const Row& row : {
           Row{"/a/../b", PathNormalization::kBase, "/b"},
           Row{"/\\da", PathNormalization::kBase, "//da"},
           Row{"/a//b", PathNormalization::kBase, "/a//b"},
           Row{"/a//b", PathNormalization::kMergeSlashes, "/a/b"},
           Row{"/a%2fb", PathNormalization::kMergeSlashes, "/a%2Fb"},
           Row{"/a%2fb", PathNormalization::kDecodeAndMergeSlashes, "/a/b"},
           Row{"/a%5Cb", PathNormalization::kDecodeAndMergeSlashes, "/a/b"},
           Row{"/a/%7euser/%41%zz", PathNormalization::kBase, "/a/~user/A%zz"},
           Row{"/a/%3f", PathNormalization::kBase, "/a/%3F"},
           Row{"/../..", PathNormalization::kBase, "/"},
           Row{"/a/b/.", PathNormalization::kBase, "/a/b/"},
           Row{"/a/../b", PathNormalization::kNone, "/a/../b"},
       }) {
    auto out = normalizePath(row.in, row.mode);
    ASSERT_TRUE(out.ok()) << row.in;
    EXPECT_EQ(*out, row.out) << row.in << " under " << toString(row.mode);
  }
  EXPECT_FALSE(normalizePath("admin", PathNormalization::kBase).ok());
  EXPECT_FALSE(normalizePath("/a b", PathNormalization::kNone).ok());
  EXPECT_FALSE(normalizePath("/a#b", PathNormalization::kBase).ok());
  auto [path, query] = splitPathAndQuery("/a/b?x=1&y");
  EXPECT_EQ(path, "/a/b");
  EXPECT_EQ(query, "x=1&y");
}

}  // namespace
}  // namespace meshnode::security
