#include "security/peer_authn.h"

#include <gtest/gtest.h>

namespace meshnode::security {
namespace {

PeerAuthnPolicy pa(std::string ns, std::string name, MtlsMode mode,
                   std::map<std::string, std::string> selector = {},
                   std::map<uint16_t, MtlsMode> ports = {}) {
  return PeerAuthnPolicy{std::move(ns), std::move(name), "", std::move(selector),
                         mode,          std::move(ports)};
}

const WorkloadRef kHttpbin{"foo", {{"app", "httpbin"}, {"version", "v1"}}};

MtlsMode mode(const std::vector<PeerAuthnPolicy>& policies, uint16_t port = 8080,
              const WorkloadRef& w = kHttpbin) {
  return effectiveMtlsMode(policies, "istio-system", w, port);
}

TEST(PeerAuthn, PermissiveWithoutPolicies) {
  EXPECT_EQ(mode({}), MtlsMode::kPermissive);
}

TEST(PeerAuthn, MeshWideStrict) {
  EXPECT_EQ(mode({pa("istio-system", "default", MtlsMode::kStrict)}), MtlsMode::kStrict);
}

TEST(PeerAuthn, NamespaceOverridesMesh) {
  EXPECT_EQ(mode({pa("istio-system", "default", MtlsMode::kStrict),
                  pa("foo", "default", MtlsMode::kPermissive)}),
            MtlsMode::kPermissive);
}

TEST(PeerAuthn, OtherNamespaceDoesNotApply) {
  EXPECT_EQ(mode({pa("istio-system", "default", MtlsMode::kStrict),
                  pa("bar", "default", MtlsMode::kDisable)}),
            MtlsMode::kStrict);
}

TEST(PeerAuthn, WorkloadOverridesNamespace) {
  EXPECT_EQ(mode({pa("foo", "default", MtlsMode::kStrict),
                  pa("foo", "httpbin", MtlsMode::kDisable, {{"app", "httpbin"}})}),
            MtlsMode::kDisable);
}

TEST(PeerAuthn, SelectorMustMatchAllLabels) {
  EXPECT_EQ(mode({pa("foo", "default", MtlsMode::kStrict),
                  pa("foo", "v2", MtlsMode::kDisable, {{"app", "httpbin"}, {"version", "v2"}})}),
            MtlsMode::kStrict);
}

TEST(PeerAuthn, UnsetInheritsFromParent) {
  EXPECT_EQ(mode({pa("istio-system", "default", MtlsMode::kStrict),
                  pa("foo", "default", MtlsMode::kUnset),
                  pa("foo", "httpbin", MtlsMode::kUnset, {{"app", "httpbin"}})}),
            MtlsMode::kStrict);
}

TEST(PeerAuthn, PortLevelOverridesWorkloadMode) {
  std::vector<PeerAuthnPolicy> policies = {
      pa("istio-system", "default", MtlsMode::kPermissive),
      pa("foo", "httpbin", MtlsMode::kStrict, {{"app", "httpbin"}},
         {{8080, MtlsMode::kDisable}, {9090, MtlsMode::kUnset}})};
  EXPECT_EQ(mode(policies, 8080), MtlsMode::kDisable);
  EXPECT_EQ(mode(policies, 9090), MtlsMode::kStrict);  // UNSET port inherits the workload mode
  EXPECT_EQ(mode(policies, 80), MtlsMode::kStrict);
}

TEST(PeerAuthn, OldestAtALevelWins) {
  EXPECT_EQ(mode({pa("foo", "older", MtlsMode::kStrict), pa("foo", "newer", MtlsMode::kDisable)}),
            MtlsMode::kStrict);
}

TEST(PeerAuthn, RootNamespaceWorkload) {
  WorkloadRef gateway{"istio-system", {{"app", "gw"}}};
  EXPECT_EQ(mode({pa("istio-system", "default", MtlsMode::kStrict)}, 443, gateway),
            MtlsMode::kStrict);
}

TEST(PeerAuthn, ValidationAndNames) {
  EXPECT_FALSE(
      validatePeerAuthn(pa("foo", "bad", MtlsMode::kStrict, {}, {{80, MtlsMode::kDisable}})).ok());
  EXPECT_FALSE(validatePeerAuthn(
                   pa("foo", "bad", MtlsMode::kStrict, {{"a", "b"}}, {{0, MtlsMode::kDisable}}))
                   .ok());
  EXPECT_TRUE(validatePeerAuthn(
                  pa("foo", "ok", MtlsMode::kStrict, {{"a", "b"}}, {{80, MtlsMode::kDisable}}))
                  .ok());
  EXPECT_EQ(parseMtlsMode("STRICT").value(), MtlsMode::kStrict);
  EXPECT_FALSE(parseMtlsMode("strict").ok());
  auto err = validatePeerAuthn(pa("foo", "bad", MtlsMode::kStrict, {}, {{80, MtlsMode::kDisable}}));
  EXPECT_NE(err.error().detail.find(
                "PeerAuthentication foo/bad: portLevelMtls requires a workload selector"),
            std::string::npos);
}

}  // namespace
}  // namespace meshnode::security
