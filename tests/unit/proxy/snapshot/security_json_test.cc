#include <gtest/gtest.h>

#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::proxy {
namespace {

std::string withSecurity(const std::string& security, const std::string& cluster_tls = "") {
  return R"({"schema": 1, "version": "v1",
    "listeners": [{"name": "in", "direction": "inbound", "port": 15006}],
    "clusters": [{"name": "c", "endpoints": [{"address": "198.18.0.2", "port": 80}])" +
         cluster_tls + R"(}],
    "security": )" +
         security + "}";
}

constexpr const char* kIdentity =
    R"("identity": {"cert_chain": "/id/cert-chain.pem", "key": "/id/key.pem",
                    "root_cert": "/id/root-cert.pem"})";

TEST(SecurityJsonTest, ReadsIdentityModesPoliciesAndJwtRules) {
  std::string doc = withSecurity(std::string("{") + kIdentity + R"(,
    "peer_authentication": {"mode": "STRICT", "port_modes": {"8080": "PERMISSIVE", "9000": "DISABLE"}},
    "path_normalization": "MERGE_SLASHES",
    "authorization_policies": [{"namespace": "foo", "name": "deny", "action": "DENY",
      "rules": [{"to": [{"paths": ["/admin"]}]}]}],
    "jwt_rules": [{"issuer": "https://issuer.test",
      "jwks": "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\",\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\"}]}",
      "from_headers": [{"name": "X-Token"}], "output_payload_to_header": "X-Payload"}]})");
  auto s = parseSnapshot(doc, "sec.json");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const SecurityConfig& sec = (*s)->security;
  EXPECT_TRUE(sec.hasIdentity());
  EXPECT_EQ(sec.key, "/id/key.pem");
  EXPECT_EQ(sec.modeFor(15006), security::MtlsMode::kStrict);
  EXPECT_EQ(sec.modeFor(8080), security::MtlsMode::kPermissive);
  EXPECT_EQ(sec.modeFor(9000), security::MtlsMode::kDisable);
  EXPECT_EQ(sec.path_normalization, security::PathNormalization::kMergeSlashes);
  ASSERT_TRUE(sec.authz);
  security::AuthzRequest admin;
  admin.method = "GET";
  admin.path = "/admin";
  EXPECT_FALSE(sec.authz->evaluate(admin).allowed);
  admin.path = "/public";
  EXPECT_TRUE(sec.authz->evaluate(admin).allowed);
  ASSERT_EQ(sec.jwt_rules.size(), 1u);
  EXPECT_EQ(sec.jwt_rules[0].locations.headers[0].name, "x-token");
  EXPECT_TRUE(sec.jwt_rules[0].locations.params.empty());
  EXPECT_EQ(sec.jwt_rules[0].output_payload_to_header, "x-payload");
}

TEST(SecurityJsonTest, DefaultsAreOff) {
  auto s = parseSnapshot(withSecurity("{}"), "sec.json");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const SecurityConfig& sec = (*s)->security;
  EXPECT_FALSE(sec.hasIdentity());
  EXPECT_EQ(sec.modeFor(80), security::MtlsMode::kPermissive);
  EXPECT_FALSE(sec.authz);
  EXPECT_TRUE(sec.auto_mtls);
  EXPECT_FALSE((*s)->clusters[0].tls.configured);
}

TEST(SecurityJsonTest, ClusterTlsMarksItselfConfigured) {
  auto s = parseSnapshot(withSecurity("{}", R"(, "tls": {"mode": "disable"})"), "sec.json");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_TRUE((*s)->clusters[0].tls.configured);
  EXPECT_EQ((*s)->clusters[0].tls.mode, TlsMode::kDisable);
}

void expectError(const std::string& security, const std::string& want) {
  auto s = parseSnapshot(withSecurity(security), "sec.json");
  ASSERT_FALSE(s.ok()) << "accepted: " << security;
  EXPECT_NE(s.error().detail.find(want), std::string::npos) << s.error().detail;
  EXPECT_NE(s.error().detail.find("sec.json"), std::string::npos) << s.error().detail;
}

TEST(SecurityJsonTest, BadInputNamesTheField) {
  expectError(R"({"peer_authentication": {"mode": "LAX"}})",
              "$.security.peer_authentication.mode: \"LAX\" is not one of");
  expectError(R"({"peer_authentication": {"port_modes": {"http": "STRICT"}}})",
              "$.security.peer_authentication.port_modes.http");
  expectError(R"({"peer_authentication": {"mode": "STRICT"}})", "STRICT needs a workload identity");
  expectError(R"({"identity": {"cert_chain": "/a"}})", "$.security.identity.key: is required");
  expectError(R"({"authorization_policies": [{"name": "x", "action": "CUSTOM"}]})",
              "$.security.authorization_policies[0].action: CUSTOM is not supported");
  expectError(R"({"authorization_policies": [{"name": "x", "rules": [{"from": [
                 {"ip_blocks": ["10.0.0/8"]}]}]}]})",
              "authorization_policies");
  expectError(R"({"jwt_rules": [{"issuer": "i", "jwks": "{}"}]})", "$.security.jwt_rules[0].jwks");
  expectError(R"({"path_normalization": "SOMETIMES"})", "$.security.path_normalization");
  expectError(R"({"tls": {}})", "$.security.tls: unknown field");
}

}  // namespace
}  // namespace meshnode::proxy
