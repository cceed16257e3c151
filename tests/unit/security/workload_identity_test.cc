#include "security/workload_identity.h"

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/security/test_pki.h"

namespace meshnode::security {
namespace {

using namespace testing;

Result<std::shared_ptr<const WorkloadIdentity>> load(const Pem& pem) {
  return WorkloadIdentity::fromPem(pem.chain, pem.key, pem.root, now(), "test");
}

std::string errorOf(const Result<std::shared_ptr<const WorkloadIdentity>>& r) {
  return r.ok() ? std::string("(loaded)") : r.error().detail;
}

TEST(WorkloadIdentity, LoadsAValidIdentity) {
  RootCa root = makeRoot();
  auto id = load(toPem(issue(root, forId("default", "sleep")), root));
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_EQ((*id)->id().uri(), "spiffe://cluster.local/ns/default/sa/sleep");
  EXPECT_GT((*id)->secondsUntilExpiry(now()), 3500);
  EXPECT_LE((*id)->secondsUntilExpiry(now()), 3600);
  EXPECT_FALSE((*id)->nearExpiry(now()));
  EXPECT_TRUE((*id)->nearExpiry(now() + std::chrono::minutes(55)));
}

TEST(WorkloadIdentity, LeafFromAnotherRootIsRefused) {
  RootCa root = makeRoot();
  RootCa other = makeRoot();
  Pem pem = toPem(issue(other, forId("default", "sleep")), root);
  EXPECT_NE(errorOf(load(pem)).find("does not verify against the root bundle"), std::string::npos)
      << errorOf(load(pem));
}

TEST(WorkloadIdentity, ExpiredIsRefused) {
  RootCa root = makeRoot();
  auto o = forId("default", "sleep");
  o.shift = -std::chrono::hours(2);
  EXPECT_NE(errorOf(load(toPem(issue(root, o), root))).find("expired"), std::string::npos);
}

TEST(WorkloadIdentity, NotYetValidIsRefused) {
  RootCa root = makeRoot();
  auto o = forId("default", "sleep");
  o.shift = std::chrono::hours(2);
  EXPECT_NE(errorOf(load(toPem(issue(root, o), root))).find("not valid for another"),
            std::string::npos);
}

TEST(WorkloadIdentity, NoUriSanIsRefused) {
  RootCa root = makeRoot();
  auto o = forId("default", "sleep");
  o.omit_uri_san = true;
  EXPECT_NE(errorOf(load(toPem(issue(root, o), root))).find("no URI SAN"), std::string::npos);
}

TEST(WorkloadIdentity, TwoUriSansAreRefused) {
  RootCa root = makeRoot();
  auto o = forId("default", "sleep");
  o.extra_uri_sans = {"spiffe://cluster.local/ns/default/sa/admin"};
  EXPECT_NE(errorOf(load(toPem(issue(root, o), root))).find("2 URI SANs"), std::string::npos);
}

TEST(WorkloadIdentity, MismatchedKeyIsRefused) {
  RootCa root = makeRoot();
  Pem pem = toPem(issue(root, forId("default", "sleep")), root);
  pem.key = toPem(issue(root, forId("default", "sleep")), root).key;
  EXPECT_NE(errorOf(load(pem)).find("private key does not match"), std::string::npos);
}

TEST(WorkloadIdentity, GarbageFilesNameTheirSource) {
  RootCa root = makeRoot();
  Pem pem = toPem(issue(root, forId("default", "sleep")), root);
  pem.chain = "not a certificate";
  EXPECT_NE(errorOf(load(pem)).find("test: cert-chain"), std::string::npos);
  pem = toPem(issue(root, forId("default", "sleep")), root);
  pem.key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  EXPECT_NE(errorOf(load(pem)).find("test: key"), std::string::npos);
}

TEST(WorkloadIdentity, LoadsFilesWrittenByTheIssuer) {
  auto dir =
      std::filesystem::temp_directory_path() / ("meshnode-identity-" + std::to_string(::getpid()));
  RootCa root = makeRoot("example.org");
  ASSERT_TRUE(writeRoot(dir / "root", root).ok());
  auto loaded_root = loadRoot(dir / "root");
  ASSERT_TRUE(loaded_root.ok()) << loaded_root.error().describe();
  ASSERT_TRUE(writeWorkload(dir / "w", issue(*loaded_root, forId("ns1", "sa1", "example.org")),
                            *loaded_root)
                  .ok());
  EXPECT_EQ(std::filesystem::status(dir / "w" / "key.pem").permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  auto id = WorkloadIdentity::load(IdentityFiles::inDirectory(dir / "w"), now());
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_EQ((*id)->id().principal(), "example.org/ns/ns1/sa/sa1");
  auto missing = WorkloadIdentity::load(IdentityFiles::inDirectory(dir / "nope"), now());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("nope/cert-chain.pem"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshnode::security
