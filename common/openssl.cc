#include "common/openssl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace meshnode::ossl {

void X509StackFree::operator()(STACK_OF(X509) * stack) const {
  sk_X509_pop_free(stack, X509_free);
}

X509Ptr upRef(X509* cert) {
  if (cert != nullptr) X509_up_ref(cert);
  return X509Ptr(cert);
}

EvpPkeyPtr upRef(EVP_PKEY* key) {
  if (key != nullptr) EVP_PKEY_up_ref(key);
  return EvpPkeyPtr(key);
}

SslCtxPtr upRef(SSL_CTX* ctx) {
  if (ctx != nullptr) SSL_CTX_up_ref(ctx);
  return SslCtxPtr(ctx);
}

namespace {

std::string drainReasons() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    // The library and function parts of OpenSSL's text are noise; the reason is what helps.
    const char* reason = ERR_reason_error_string(err);
    out += reason != nullptr ? reason : buf;
  }
  return out;
}

}  // namespace

Error lastError(std::string_view what, ErrorCode code, Side side) {
  std::string detail(what);
  std::string reasons = drainReasons();
  if (!reasons.empty()) detail += ": " + reasons;
  return makeError(code, side, std::move(detail));
}

std::string errorText() {
  std::string reasons = drainReasons();
  return reasons.empty() ? "TLS error" : reasons;
}

void clearErrors() {
  ERR_clear_error();
}

namespace {

BioPtr memoryBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Result<std::string> drain(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || data == nullptr) return lastError("reading PEM buffer");
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem, std::string_view source) {
  clearErrors();
  BioPtr bio = memoryBio(pem);
  if (!bio) return lastError("allocating BIO");
  std::vector<X509Ptr> certs;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  unsigned long err = ERR_peek_last_error();
  // Running out of PEM blocks is how the loop ends; anything else is a broken file.
  if (err != 0 &&
      !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
    return lastError(std::string(source) + ": invalid PEM certificate", ErrorCode::kParse,
                     Side::kConfig);
  }
  clearErrors();
  if (certs.empty()) {
    return makeError(ErrorCode::kParse, Side::kConfig,
                     std::string(source) + ": no PEM certificate found");
  }
  return certs;
}

Result<EvpPkeyPtr> parsePrivateKey(std::string_view pem, std::string_view source) {
  clearErrors();
  BioPtr bio = memoryBio(pem);
  if (!bio) return lastError("allocating BIO");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return lastError(std::string(source) + ": no usable PEM private key", ErrorCode::kParse,
                     Side::kConfig);
  }
  return key;
}

Result<std::string> certificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return lastError("encoding certificate");
  return drain(bio.get());
}

Result<std::string> privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return lastError("encoding private key");
  }
  return drain(bio.get());
}

Result<int64_t> toUnixSeconds(const ASN1_TIME* time) {
  struct tm tm_value = {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm_value) != 1) {
    return lastError("invalid ASN.1 time", ErrorCode::kParse, Side::kConfig);
  }
  return static_cast<int64_t>(timegm(&tm_value));
}

std::vector<std::string> uriSans(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return out;
}

std::string nameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  auto text = drain(bio.get());
  return text ? std::move(text).value() : std::string();
}

}  // namespace meshnode::ossl
