#include "proxy/stats/identity_metrics.h"

#include <gtest/gtest.h>

#include "proxy/tls/tls_store.h"
#include "tests/unit/security/test_pki.h"

namespace meshnode::proxy {
namespace {

using namespace std::chrono_literals;
namespace pki = security::testing;

TEST(IdentityMetrics, ShowExpiryOfTheWorkloadCertificateAndTheRootWithTheSpiffeId) {
  auto t0 = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  int64_t t0_s = std::chrono::duration_cast<std::chrono::seconds>(t0.time_since_epoch()).count();
  auto root = security::createRoot({"cluster.local", 24h}, t0);
  ASSERT_TRUE(root.ok()) << root.error().describe();
  auto options = pki::forId("shop", "cart");
  auto issued = security::issueWorkload(*root, options, t0);
  ASSERT_TRUE(issued.ok()) << issued.error().describe();
  auto pem = pki::toPem(*issued, *root);
  auto identity =
      security::WorkloadIdentity::fromPem(pem.chain, pem.key, pem.root, t0 + 600s, "test");
  ASSERT_TRUE(identity.ok()) << identity.error().describe();

  std::string text = identityPrometheus(**identity, t0 + 600s);
  const std::string id = R"(spiffe_id="spiffe://cluster.local/ns/shop/sa/cart")";
  EXPECT_NE(text.find("# TYPE meshnode_proxy_workload_cert_expiry_seconds gauge\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("meshnode_proxy_workload_cert_expiry_seconds{" + id + "} 3000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("meshnode_proxy_workload_cert_not_after_seconds{" + id + "} " +
                      std::to_string(t0_s + 3600) + "\n"),
            std::string::npos)
      << text;
  std::string root_labels =
      id + ",root=\"" + ossl::nameToString(X509_get_subject_name(root->cert.get())) + "\"";
  EXPECT_NE(text.find("meshnode_proxy_root_cert_expiry_seconds{" + root_labels + "} 85800\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("meshnode_proxy_root_cert_not_after_seconds{" + root_labels + "} " +
                      std::to_string(t0_s + 86400) + "\n"),
            std::string::npos)
      << text;

  // Past the end, the countdown goes negative rather than stopping at zero.
  std::string late = identityPrometheus(**identity, t0 + 3700s);
  EXPECT_NE(late.find("meshnode_proxy_workload_cert_expiry_seconds{" + id + "} -100\n"),
            std::string::npos)
      << late;
}

TEST(IdentityMetrics, NothingWithoutAWorkloadIdentity) {
  TlsStore::get().set(std::make_shared<TlsContexts>());
  EXPECT_EQ(currentIdentityPrometheus(std::chrono::system_clock::now()), "");
}

}  // namespace
}  // namespace meshnode::proxy
