#include "security/upstream_tls.h"

#include "common/file.h"

namespace meshnode::security {

Result<UpstreamTlsMode> parseUpstreamTlsMode(std::string_view name) {
  if (name == "DISABLE") return UpstreamTlsMode::kDisable;
  if (name == "SIMPLE") return UpstreamTlsMode::kSimple;
  if (name == "MUTUAL") return UpstreamTlsMode::kMutual;
  if (name == "ISTIO_MUTUAL") return UpstreamTlsMode::kIstioMutual;
  return makeError(
      ErrorCode::kInvalidArgument, Side::kConfig,
      "tls.mode '" + std::string(name) + "': expected DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL");
}

const char* toString(UpstreamTlsMode mode) {
  switch (mode) {
    case UpstreamTlsMode::kDisable:
      return "DISABLE";
    case UpstreamTlsMode::kSimple:
      return "SIMPLE";
    case UpstreamTlsMode::kMutual:
      return "MUTUAL";
    case UpstreamTlsMode::kIstioMutual:
      return "ISTIO_MUTUAL";
  }
  return "?";
}

UpstreamTlsMode effectiveUpstreamTls(std::optional<UpstreamTlsMode> destination_rule_mode,
                                     const std::map<std::string, std::string>& endpoint_labels,
                                     bool auto_mtls) {
  if (destination_rule_mode) return *destination_rule_mode;
  if (!auto_mtls) return UpstreamTlsMode::kDisable;
  auto it = endpoint_labels.find("security.istio.io/tlsMode");
  return it != endpoint_labels.end() && it->second == "istio" ? UpstreamTlsMode::kIstioMutual
                                                              : UpstreamTlsMode::kDisable;
}

namespace {

Error fieldError(const std::string& field, const std::string& path, const Error& cause) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                   "tls." + field + " " + path + ": " + cause.detail);
}

// The SANs a SIMPLE/MUTUAL upstream must present, kept on the SSL_CTX.
struct SanList {
  std::vector<std::string> names;
};

void freeSanList(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<SanList*>(ptr);
}

int sanIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeSanList);
  return index;
}

bool hasSan(X509* cert, const std::vector<std::string>& wanted) {
  ossl::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    const ASN1_IA5STRING* text = nullptr;
    if (name->type == GEN_DNS) text = name->d.dNSName;
    if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
    if (text == nullptr) continue;
    std::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                           static_cast<size_t>(ASN1_STRING_length(text)));
    for (const std::string& w : wanted) {
      if (value == w) return true;
    }
  }
  return false;
}

int verifySans(int preverify_ok, X509_STORE_CTX* store) {
  if (!preverify_ok || X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* sans = static_cast<const SanList*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sanIndex()));
  if (sans == nullptr || sans->names.empty()) return 1;
  if (hasSan(X509_STORE_CTX_get_current_cert(store), sans->names)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
  return 0;
}

}  // namespace

Result<ossl::SslCtxPtr> makeUserTlsClientContext(const UserTlsSettings& s) {
  if (s.mode != UpstreamTlsMode::kSimple && s.mode != UpstreamTlsMode::kMutual) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     std::string("tls.mode ") + toString(s.mode) + " takes no user certificates");
  }
  ossl::clearErrors();
  ossl::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return ossl::lastError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);

  if (s.mode == UpstreamTlsMode::kMutual) {
    if (s.client_certificate.empty() || s.private_key.empty()) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       "tls: MUTUAL needs clientCertificate and privateKey");
    }
    auto pem = readFile(s.client_certificate);
    if (!pem) return pem.error();
    auto certs = ossl::parseCertificates(*pem, s.client_certificate);
    if (!certs) return fieldError("clientCertificate", s.client_certificate, certs.error());
    auto key_pem = readFile(s.private_key);
    if (!key_pem) return key_pem.error();
    auto key = ossl::parsePrivateKey(*key_pem, s.private_key);
    if (!key) return fieldError("privateKey", s.private_key, key.error());
    if (SSL_CTX_use_certificate(ctx.get(), certs->front().get()) != 1) {
      return fieldError("clientCertificate", s.client_certificate,
                        ossl::lastError("unusable certificate"));
    }
    for (size_t i = 1; i < certs->size(); ++i) {
      if (SSL_CTX_add1_chain_cert(ctx.get(), (*certs)[i].get()) != 1) {
        return ossl::lastError("adding chain certificate");
      }
    }
    if (SSL_CTX_use_PrivateKey(ctx.get(), key->get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      ossl::clearErrors();
      return makeError(
          ErrorCode::kInvalidArgument, Side::kConfig,
          "tls.privateKey " + s.private_key + ": does not match " + s.client_certificate);
    }
  }

  if (s.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    if (s.ca_certificates.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
        return ossl::lastError("loading the system trust store");
      }
    } else {
      auto pem = readFile(s.ca_certificates);
      if (!pem) return pem.error();
      auto cas = ossl::parseCertificates(*pem, s.ca_certificates);
      if (!cas) return fieldError("caCertificates", s.ca_certificates, cas.error());
      X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
      for (const auto& ca : *cas) {
        if (X509_STORE_add_cert(store, ca.get()) != 1) return ossl::lastError("adding CA");
      }
    }
    auto sans = std::make_unique<SanList>();
    sans->names = s.subject_alt_names;
    if (SSL_CTX_set_ex_data(ctx.get(), sanIndex(), sans.get()) != 1) {
      return ossl::lastError("SSL_CTX_set_ex_data");
    }
    sans.release();
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, verifySans);
  }

  if (!s.alpn.empty()) {
    std::string wire;
    for (const std::string& p : s.alpn) {
      if (p.empty() || p.size() > 255) {
        return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "invalid ALPN '" + p + "'");
      }
      wire += static_cast<char>(p.size());
      wire += p;
    }
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      return ossl::lastError("setting ALPN");
    }
  }
  return ctx;
}

Status prepareUserTlsConnection(SSL* ssl, const UserTlsSettings& s) {
  if (!s.sni.empty() && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                 const_cast<char*>(s.sni.c_str())) != 1) {
    return ossl::lastError("setting SNI");
  }
  // Without explicit SANs the server's name is the one we asked for.
  if (!s.insecure_skip_verify && s.subject_alt_names.empty() && !s.sni.empty() &&
      SSL_set1_host(ssl, s.sni.c_str()) != 1) {
    return ossl::lastError("setting the expected server name");
  }
  return {};
}

}  // namespace meshnode::security
