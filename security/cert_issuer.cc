#include "security/cert_issuer.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include "common/file.h"
#include "common/unique_fd.h"

namespace meshnode::security {

namespace {

Result<ossl::EvpPkeyPtr> newP256Key() {
  ossl::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return ossl::lastError("generating P-256 key");
  return key;
}

Status setSerial(X509* cert) {
  ossl::BignumPtr bn(BN_new());
  if (!bn || BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    return ossl::lastError("random serial");
  }
  ASN1_INTEGER* serial = X509_get_serialNumber(cert);
  if (BN_to_ASN1_INTEGER(bn.get(), serial) == nullptr) return ossl::lastError("serial");
  return {};
}

Status setValidity(X509* cert, SystemTime not_before, SystemTime not_after) {
  auto secs = [](SystemTime t) {
    return static_cast<time_t>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
  };
  if (ASN1_TIME_set(X509_getm_notBefore(cert), secs(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), secs(not_after)) == nullptr) {
    return ossl::lastError("validity");
  }
  return {};
}

Status addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ossl::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return ossl::lastError(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value,
                           ErrorCode::kInvalidArgument, Side::kConfig);
  }
  return {};
}

Status addName(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                 0) != 1) {
    return ossl::lastError(std::string("subject ") + field);
  }
  return {};
}

// Writes a file only its owner can read, replacing any old one atomically.
Status writePrivateFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return makeError(ErrorCode::kIo, Side::kSystem, "create " + tmp + ": " + std::strerror(errno));
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || ::fsync(fd.get()) != 0) {
      Error err =
          makeError(ErrorCode::kIo, Side::kSystem, "write " + tmp + ": " + std::strerror(errno));
      ::unlink(tmp.c_str());
      return err;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Error err =
        makeError(ErrorCode::kIo, Side::kSystem, "replace " + path + ": " + std::strerror(errno));
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

Status ensureDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError(ErrorCode::kIo, Side::kSystem, "mkdir " + dir + ": " + ec.message());
  return {};
}

std::string joinPath(const std::string& dir, const char* name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace

Result<RootCa> createRoot(const RootOptions& options, SystemTime now) {
  if (!validTrustDomain(options.trust_domain)) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "--trust-domain '" + options.trust_domain +
                         "': use lower-case letters, digits, '.', '-', '_'");
  }
  ossl::clearErrors();
  auto key = newP256Key();
  if (!key) return key.error();
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return ossl::lastError("X509_new");
  if (Status s = setSerial(cert.get()); !s) return s.error();
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (Status s = addName(name, "O", options.trust_domain); !s) return s.error();
  if (Status s = addName(name, "CN", "meshnode root CA"); !s) return s.error();
  if (X509_set_issuer_name(cert.get(), name) != 1) return ossl::lastError("issuer name");
  if (Status s = setValidity(cert.get(), now - std::chrono::minutes(5), now + options.lifetime);
      !s) {
    return s.error();
  }
  if (X509_set_pubkey(cert.get(), key->get()) != 1) return ossl::lastError("public key");
  X509* c = cert.get();
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status s = addExtension(c, c, nid, value); !s) return s.error();
  }
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) return ossl::lastError("signing root");
  return RootCa{std::move(cert), std::move(key).value()};
}

Result<IssuedCert> issueWorkload(const RootCa& root, const WorkloadCertOptions& options,
                                 SystemTime now) {
  SpiffeId id = options.id;
  if (auto parsed = parseSpiffeId(id.uri()); !parsed) return parsed.error();
  if (options.lifetime.count() <= 0) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "lifetime must be positive");
  }
  ossl::clearErrors();
  auto key = newP256Key();
  if (!key) return key.error();
  ossl::X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return ossl::lastError("X509_new");
  X509* c = cert.get();
  if (Status s = setSerial(c); !s) return s.error();
  if (X509_set_issuer_name(c, X509_get_subject_name(root.cert.get())) != 1) {
    return ossl::lastError("issuer name");
  }
  // Mesh leaves carry their identity only in the SAN; the subject stays empty unless there is
  // no SAN at all, which only the test aid produces.
  if (options.omit_uri_san) {
    if (Status s = addName(X509_get_subject_name(c), "CN", id.ns + "." + id.sa); !s) {
      return s.error();
    }
  }
  SystemTime start = now + options.shift;
  if (Status s = setValidity(c, start - options.backdate, start + options.lifetime); !s) {
    return s.error();
  }
  if (X509_set_pubkey(c, key->get()) != 1) return ossl::lastError("public key");

  std::string san;
  if (!options.omit_uri_san) {
    san = "critical,URI:" + id.uri();
    for (const std::string& extra : options.extra_uri_sans)
      san += ",URI:" + extra;
  }
  std::vector<std::pair<int, std::string>> exts = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, "serverAuth,clientAuth"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (!san.empty()) exts.emplace_back(NID_subject_alt_name, san);
  for (const auto& [nid, value] : exts) {
    if (Status s = addExtension(c, root.cert.get(), nid, value); !s) return s.error();
  }
  if (X509_sign(c, root.key.get(), EVP_sha256()) == 0) return ossl::lastError("signing leaf");
  return IssuedCert{std::move(cert), std::move(key).value()};
}

Status writeRoot(const std::string& dir, const RootCa& root) {
  if (Status s = ensureDirectory(dir); !s) return s;
  auto cert = ossl::certificateToPem(root.cert.get());
  if (!cert) return cert.error();
  auto key = ossl::privateKeyToPem(root.key.get());
  if (!key) return key.error();
  if (Status s = writePrivateFile(joinPath(dir, "root-key.pem"), *key); !s) return s;
  return writeFileAtomic(joinPath(dir, "root-cert.pem"), *cert);
}

Result<RootCa> loadRoot(const std::string& dir) {
  std::string cert_path = joinPath(dir, "root-cert.pem");
  std::string key_path = joinPath(dir, "root-key.pem");
  auto cert_pem = readFile(cert_path);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = readFile(key_path);
  if (!key_pem) return key_pem.error();
  auto certs = ossl::parseCertificates(*cert_pem, cert_path);
  if (!certs) return certs.error();
  auto key = ossl::parsePrivateKey(*key_pem, key_path);
  if (!key) return key.error();
  RootCa root{std::move(certs->front()), std::move(key).value()};
  if (X509_check_private_key(root.cert.get(), root.key.get()) != 1) {
    ossl::clearErrors();
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     key_path + ": key does not match " + cert_path);
  }
  return root;
}

Status writeWorkload(const std::string& dir, const IssuedCert& issued, const RootCa& root) {
  if (Status s = ensureDirectory(dir); !s) return s;
  auto cert = ossl::certificateToPem(issued.cert.get());
  if (!cert) return cert.error();
  auto key = ossl::privateKeyToPem(issued.key.get());
  if (!key) return key.error();
  auto root_pem = ossl::certificateToPem(root.cert.get());
  if (!root_pem) return root_pem.error();
  // The key goes first: a reader that sees a new chain must never pair it with an old key
  // for long, and the chain is what readers watch.
  if (Status s = writePrivateFile(joinPath(dir, "key.pem"), *key); !s) return s;
  if (Status s = writeFileAtomic(joinPath(dir, "root-cert.pem"), *root_pem); !s) return s;
  return writeFileAtomic(joinPath(dir, "cert-chain.pem"), *cert);
}

}  // namespace meshnode::security
