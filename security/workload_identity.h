#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/openssl.h"
#include "common/result.h"
#include "security/spiffe_id.h"

namespace meshnode::security {

using SystemTime = std::chrono::system_clock::time_point;

// Where a workload's identity lives on disk; the names are Istio's.
struct IdentityFiles {
  std::string cert_chain;  // leaf first, then intermediates (cert-chain.pem)
  std::string key;         // the leaf's private key (key.pem)
  std::string root_cert;   // the mesh's trust bundle, one or more roots (root-cert.pem)

  static IdentityFiles inDirectory(const std::string& dir);
};

// A validated workload identity: certificate chain, key and trust bundle. Immutable once
// built; the proxy shares it between workers as std::shared_ptr<const WorkloadIdentity>.
class WorkloadIdentity {
 public:
  // Reads and validates the three files. Blocking file I/O: call it from the thread that
  // owns reloads, never from a worker.
  static Result<std::shared_ptr<const WorkloadIdentity>> load(const IdentityFiles& files,
                                                              SystemTime now);
  // The same from PEM text; `source` prefixes every error ("<source>: cert-chain: ...").
  static Result<std::shared_ptr<const WorkloadIdentity>> fromPem(std::string_view cert_chain_pem,
                                                                 std::string_view key_pem,
                                                                 std::string_view root_pem,
                                                                 SystemTime now,
                                                                 std::string_view source);

  const SpiffeId& id() const { return id_; }
  X509* leaf() const { return chain_.front().get(); }
  // Certificates after the leaf, to be sent with it.
  std::vector<X509*> intermediates() const;
  const std::vector<ossl::X509Ptr>& roots() const { return roots_; }
  EVP_PKEY* key() const { return key_.get(); }

  SystemTime notBefore() const { return not_before_; }
  SystemTime notAfter() const { return not_after_; }
  // Negative once expired; what the proxy exports as a gauge.
  int64_t secondsUntilExpiry(SystemTime now) const;
  // True in the last `fraction` of the certificate's lifetime, when a rotation is overdue.
  bool nearExpiry(SystemTime now, double fraction = 0.2) const;

  // A fresh store holding the trust bundle, for a verifying SSL_CTX.
  Result<ossl::X509StorePtr> makeTrustStore() const;

 private:
  // Only the factories above make one; the tag keeps std::make_shared usable.
  struct Tag {
    explicit Tag() = default;
  };

 public:
  explicit WorkloadIdentity(Tag) {}

 private:
  SpiffeId id_;
  std::vector<ossl::X509Ptr> chain_;
  std::vector<ossl::X509Ptr> roots_;
  ossl::EvpPkeyPtr key_;
  SystemTime not_before_;
  SystemTime not_after_;
};

// The identity a certificate carries: exactly one URI SAN, and it must be a SPIFFE ID of the
// mesh's form. `who` names the certificate in errors ("peer", a file path).
Result<SpiffeId> spiffeIdOf(X509* cert, std::string_view who);

// Verifies that `leaf` chains to one of `roots` through `intermediates` at time `now`.
Status verifyChain(X509* leaf, const std::vector<X509*>& intermediates,
                   const std::vector<ossl::X509Ptr>& roots, SystemTime now, std::string_view who);

}  // namespace meshnode::security
