#include "security/workload_identity.h"

#include "common/file.h"

namespace meshnode::security {

namespace {

Error configError(std::string_view source, std::string detail) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                   std::string(source) + ": " + std::move(detail));
}

int64_t toSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

IdentityFiles IdentityFiles::inDirectory(const std::string& dir) {
  std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  return IdentityFiles{base + "cert-chain.pem", base + "key.pem", base + "root-cert.pem"};
}

Result<SpiffeId> spiffeIdOf(X509* cert, std::string_view who) {
  std::vector<std::string> uris = ossl::uriSans(cert);
  if (uris.empty()) return configError(who, "certificate has no URI SAN (SPIFFE ID)");
  if (uris.size() > 1) {
    return configError(who, "certificate has " + std::to_string(uris.size()) +
                                " URI SANs; the mesh requires exactly one SPIFFE ID");
  }
  auto id = parseSpiffeId(uris.front());
  if (!id) return configError(who, id.error().detail);
  return id;
}

Status verifyChain(X509* leaf, const std::vector<X509*>& intermediates,
                   const std::vector<ossl::X509Ptr>& roots, SystemTime now, std::string_view who) {
  ossl::clearErrors();
  ossl::X509StorePtr store(X509_STORE_new());
  if (!store) return ossl::lastError("allocating X509_STORE");
  for (const auto& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return ossl::lastError(std::string(who) + ": adding root certificate");
    }
  }
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return ossl::lastError("allocating certificate stack");
  for (X509* cert : intermediates) {
    ossl::X509Ptr ref = ossl::upRef(cert);
    if (sk_X509_push(untrusted.get(), ref.get()) <= 0) return ossl::lastError("stack push");
    ref.release();
  }
  ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return ossl::lastError("initialising chain verification");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(toSeconds(now)));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ossl::clearErrors();
    return makeError(ErrorCode::kRefused, Side::kConfig,
                     std::string(who) + ": certificate does not verify against the root bundle: " +
                         X509_verify_cert_error_string(err));
  }
  return {};
}

Result<std::shared_ptr<const WorkloadIdentity>> WorkloadIdentity::load(const IdentityFiles& files,
                                                                       SystemTime now) {
  auto chain = readFile(files.cert_chain);
  if (!chain) return chain.error();
  auto key = readFile(files.key);
  if (!key) return key.error();
  auto root = readFile(files.root_cert);
  if (!root) return root.error();
  return fromPem(*chain, *key, *root, now, files.cert_chain);
}

Result<std::shared_ptr<const WorkloadIdentity>> WorkloadIdentity::fromPem(
    std::string_view cert_chain_pem, std::string_view key_pem, std::string_view root_pem,
    SystemTime now, std::string_view source) {
  std::string src(source);
  auto identity = std::make_shared<WorkloadIdentity>(Tag{});

  auto chain = ossl::parseCertificates(cert_chain_pem, src + ": cert-chain");
  if (!chain) return chain.error();
  identity->chain_ = std::move(chain).value();
  auto roots = ossl::parseCertificates(root_pem, src + ": root-cert");
  if (!roots) return roots.error();
  identity->roots_ = std::move(roots).value();
  auto key = ossl::parsePrivateKey(key_pem, src + ": key");
  if (!key) return key.error();
  identity->key_ = std::move(key).value();

  X509* leaf = identity->leaf();
  auto id = spiffeIdOf(leaf, src);
  if (!id) return id.error();
  identity->id_ = std::move(id).value();

  auto nb = ossl::toUnixSeconds(X509_get0_notBefore(leaf));
  if (!nb) return nb.error();
  auto na = ossl::toUnixSeconds(X509_get0_notAfter(leaf));
  if (!na) return na.error();
  identity->not_before_ = SystemTime(std::chrono::seconds(*nb));
  identity->not_after_ = SystemTime(std::chrono::seconds(*na));
  if (now >= identity->not_after_) {
    return configError(src, "certificate for " + identity->id_.uri() + " expired " +
                                std::to_string(toSeconds(now) - *na) + " s ago");
  }
  if (now < identity->not_before_) {
    return configError(src, "certificate for " + identity->id_.uri() +
                                " is not valid for another " +
                                std::to_string(*nb - toSeconds(now)) + " s");
  }

  ossl::clearErrors();
  if (X509_check_private_key(leaf, identity->key_.get()) != 1) {
    ossl::clearErrors();
    return configError(src, "private key does not match the certificate");
  }

  Status chained = verifyChain(leaf, identity->intermediates(), identity->roots_, now, src);
  if (!chained) return chained.error();
  return std::shared_ptr<const WorkloadIdentity>(std::move(identity));
}

std::vector<X509*> WorkloadIdentity::intermediates() const {
  std::vector<X509*> out;
  for (size_t i = 1; i < chain_.size(); ++i)
    out.push_back(chain_[i].get());
  return out;
}

int64_t WorkloadIdentity::secondsUntilExpiry(SystemTime now) const {
  return std::chrono::duration_cast<std::chrono::seconds>(not_after_ - now).count();
}

bool WorkloadIdentity::nearExpiry(SystemTime now, double fraction) const {
  auto lifetime = std::chrono::duration<double>(not_after_ - not_before_).count();
  auto left = std::chrono::duration<double>(not_after_ - now).count();
  return left <= lifetime * fraction;
}

Result<ossl::X509StorePtr> WorkloadIdentity::makeTrustStore() const {
  ossl::X509StorePtr store(X509_STORE_new());
  if (!store) return ossl::lastError("allocating X509_STORE");
  for (const auto& root : roots_) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return ossl::lastError("adding root certificate");
    }
  }
  return store;
}

}  // namespace meshnode::security
