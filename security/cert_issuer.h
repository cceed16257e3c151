#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/openssl.h"
#include "common/result.h"
#include "security/spiffe_id.h"
#include "security/workload_identity.h"

// A small certificate authority for single-host meshes, the demo and the tests: a self-signed
// mesh root and short-lived ECDSA P-256 workload certificates with one SPIFFE URI SAN.
namespace meshnode::security {

struct RootCa {
  ossl::X509Ptr cert;
  ossl::EvpPkeyPtr key;
};

struct RootOptions {
  std::string trust_domain = "cluster.local";
  std::chrono::seconds lifetime = std::chrono::hours(24 * 365);
};

struct WorkloadCertOptions {
  SpiffeId id;
  std::chrono::seconds lifetime = std::chrono::hours(24);
  // Validity starts this long before now, so a peer whose clock lags a little accepts a fresh
  // certificate; it still ends `lifetime` after now.
  std::chrono::seconds backdate = std::chrono::seconds(300);
  // Test aid: moves the whole validity window (negative: expired; positive: not yet valid).
  std::chrono::seconds shift = std::chrono::seconds(0);
  // Test aids: a leaf without any URI SAN, or with more URI SANs after the SPIFFE ID.
  bool omit_uri_san = false;
  std::vector<std::string> extra_uri_sans;
};

struct IssuedCert {
  ossl::X509Ptr cert;
  ossl::EvpPkeyPtr key;
};

Result<RootCa> createRoot(const RootOptions& options, SystemTime now);
Result<IssuedCert> issueWorkload(const RootCa& root, const WorkloadCertOptions& options,
                                 SystemTime now);

// Files: DIR/root-cert.pem and DIR/root-key.pem (mode 0600).
Status writeRoot(const std::string& dir, const RootCa& root);
Result<RootCa> loadRoot(const std::string& dir);
// Files with Istio's names: DIR/cert-chain.pem, DIR/key.pem (0600), DIR/root-cert.pem.
Status writeWorkload(const std::string& dir, const IssuedCert& issued, const RootCa& root);

}  // namespace meshnode::security
