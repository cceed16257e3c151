#pragma once

#include <string>

#include <openssl/core_names.h>
#include <openssl/hmac.h>

#include "common/openssl.h"
#include "security/base64url.h"
#include "security/jwt.h"

// Keys and token signing for JWT tests: the other side of what security/jwt.cc verifies.
namespace meshnode::security::testing {

inline std::string b64(std::string_view s) {
  return base64UrlEncode(s);
}

inline std::string bnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// The public half of `key` as a JWK object (JSON text).
inline std::string publicJwk(EVP_PKEY* key, const std::string& kid) {
  std::string kid_field = kid.empty() ? "" : "\"kid\":\"" + kid + "\",";
  int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {
    return "{" + kid_field + "\"kty\":\"RSA\",\"n\":\"" + b64(bnParam(key, OSSL_PKEY_PARAM_RSA_N)) +
           "\",\"e\":\"" + b64(bnParam(key, OSSL_PKEY_PARAM_RSA_E)) + "\"}";
  }
  if (type == EVP_PKEY_ED25519) {
    unsigned char raw[32];
    size_t len = sizeof(raw);
    EVP_PKEY_get_raw_public_key(key, raw, &len);
    return "{" + kid_field + "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" +
           b64(std::string(reinterpret_cast<char*>(raw), len)) + "\"}";
  }
  unsigned char point[200];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len);
  size_t half = (len - 1) / 2;
  std::string p(reinterpret_cast<char*>(point), len);
  return "{" + kid_field + "\"kty\":\"EC\",\"crv\":\"" + (half == 32 ? "P-256" : "P-384") +
         "\",\"x\":\"" + b64(p.substr(1, half)) + "\",\"y\":\"" + b64(p.substr(1 + half)) + "\"}";
}

inline std::string signRaw(EVP_PKEY* key, JwsAlg alg, const std::string& input) {
  const EVP_MD* md = nullptr;
  bool pss = false;
  size_t ec_half = 0;
  switch (alg) {
    case JwsAlg::kRS256:
      md = EVP_sha256();
      break;
    case JwsAlg::kRS384:
      md = EVP_sha384();
      break;
    case JwsAlg::kRS512:
      md = EVP_sha512();
      break;
    case JwsAlg::kPS256:
      md = EVP_sha256();
      pss = true;
      break;
    case JwsAlg::kPS384:
      md = EVP_sha384();
      pss = true;
      break;
    case JwsAlg::kPS512:
      md = EVP_sha512();
      pss = true;
      break;
    case JwsAlg::kES256:
      md = EVP_sha256();
      ec_half = 32;
      break;
    case JwsAlg::kES384:
      md = EVP_sha384();
      ec_half = 48;
      break;
    case JwsAlg::kEdDSA:
      break;
  }
  ossl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key);
  if (pss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
  sig.resize(len);
  if (ec_half == 0) return sig;
  // DER -> R || S
  auto p = reinterpret_cast<const unsigned char*>(sig.data());
  ossl::EcdsaSigPtr es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  std::string raw(2 * ec_half, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), reinterpret_cast<unsigned char*>(raw.data()),
               static_cast<int>(ec_half));
  BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), reinterpret_cast<unsigned char*>(raw.data()) + ec_half,
               static_cast<int>(ec_half));
  return raw;
}

inline std::string signToken(EVP_PKEY* key, JwsAlg alg, const std::string& header_json,
                             const std::string& payload_json) {
  std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + b64(signRaw(key, alg, input));
}

inline std::string hs256Token(const std::string& secret, const std::string& header_json,
                              const std::string& payload_json) {
  std::string input = b64(header_json) + "." + b64(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace meshnode::security::testing
