#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "security/cert_issuer.h"

// Certificates for tests, issued in memory by the same code as meshnode-certs.
namespace meshnode::security::testing {

inline SystemTime now() {
  return std::chrono::system_clock::now();
}

inline RootCa makeRoot(const std::string& td = "cluster.local") {
  auto root = createRoot(RootOptions{td, std::chrono::hours(24)}, now());
  EXPECT_TRUE(root.ok()) << root.error().describe();
  return std::move(root).value();
}

inline IssuedCert issue(const RootCa& root, WorkloadCertOptions options) {
  auto issued = issueWorkload(root, options, now());
  EXPECT_TRUE(issued.ok()) << issued.error().describe();
  return std::move(issued).value();
}

inline WorkloadCertOptions forId(const std::string& ns, const std::string& sa,
                                 const std::string& td = "cluster.local") {
  WorkloadCertOptions o;
  o.id = SpiffeId{td, ns, sa};
  o.lifetime = std::chrono::hours(1);
  return o;
}

struct Pem {
  std::string chain, key, root;
};

inline Pem toPem(const IssuedCert& issued, const RootCa& root) {
  return Pem{ossl::certificateToPem(issued.cert.get()).value(),
             ossl::privateKeyToPem(issued.key.get()).value(),
             ossl::certificateToPem(root.cert.get()).value()};
}

}  // namespace meshnode::security::testing
