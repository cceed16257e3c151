#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/result.h"

// RAII owners for OpenSSL handles and the one place OpenSSL's error queue becomes an Error.
// Shared by the proxy's TLS transport and the security library.
namespace meshnode::ossl {

template <auto FreeFn>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Free<SSL_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using OsslParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD_free>>;
using OsslParamPtr = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;

// Owns a STACK_OF(X509) and every certificate in it.
struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const;
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

// Takes an extra reference, for handles OpenSSL hands out without transferring ownership.
X509Ptr upRef(X509* cert);
EvpPkeyPtr upRef(EVP_PKEY* key);
SslCtxPtr upRef(SSL_CTX* ctx);

// Drains OpenSSL's thread-local error queue into one Error: "<what>: <reason>; <reason>".
// Call it right after the failing OpenSSL call, on the same thread.
Error lastError(std::string_view what, ErrorCode code = ErrorCode::kInternal,
                Side side = Side::kInternal);
// Drains the error queue into "<reason>; <reason>" ("TLS error" when it was empty).
std::string errorText();
// Empties the error queue, so a stale entry is not blamed on the next failure.
void clearErrors();

// PEM decoding from memory. `source` names where the text came from (a file path) and is
// quoted in every error.
Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem, std::string_view source);
Result<EvpPkeyPtr> parsePrivateKey(std::string_view pem, std::string_view source);
Result<std::string> certificateToPem(X509* cert);
Result<std::string> privateKeyToPem(EVP_PKEY* key);

// Seconds since the epoch of an ASN1_TIME (notBefore / notAfter).
Result<int64_t> toUnixSeconds(const ASN1_TIME* time);

// The URI subjectAltNames of a certificate, in order.
std::vector<std::string> uriSans(X509* cert);

// The text of an X509_NAME in RFC 2253 form, for logs and errors.
std::string nameToString(const X509_NAME* name);

}  // namespace meshnode::ossl
