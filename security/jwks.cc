#include "security/jwks.h"

#include <nlohmann/json.hpp>
#include <openssl/core_names.h>

#include "security/base64url.h"

namespace meshnode::security {

using nlohmann::json;

namespace {

Error keyError(std::string_view source, size_t index, std::string why) {
  return makeError(
      ErrorCode::kInvalidArgument, Side::kConfig,
      std::string(source) + ": keys[" + std::to_string(index) + "]: " + std::move(why));
}

Result<std::string> member(const json& key, const char* name, std::string_view source,
                           size_t index) {
  auto it = key.find(name);
  if (it == key.end() || !it->is_string()) {
    return keyError(source, index, std::string("\"") + name + "\" is missing or not a string");
  }
  auto bytes = base64UrlDecode(it->get<std::string>());
  if (!bytes || bytes->empty()) {
    return keyError(source, index, std::string("\"") + name + "\" is not base64url");
  }
  return std::move(bytes).value();
}

Result<ossl::EvpPkeyPtr> fromParams(const char* type, OSSL_PARAM_BLD* bld, std::string_view source,
                                    size_t index) {
  ossl::OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  ossl::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    Error e = ossl::lastError("invalid key");
    return keyError(source, index, e.detail);
  }
  return ossl::EvpPkeyPtr(raw);
}

Result<ossl::EvpPkeyPtr> rsaKey(const json& key, std::string_view source, size_t index) {
  auto n = member(key, "n", source, index);
  if (!n) return n.error();
  auto e = member(key, "e", source, index);
  if (!e) return e.error();
  auto toBn = [](const std::string& bytes) {
    return ossl::BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()), nullptr));
  };
  ossl::BignumPtr bn_n = toBn(*n);
  ossl::BignumPtr bn_e = toBn(*e);
  ossl::OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return ossl::lastError("building RSA key");
  }
  auto pkey = fromParams("RSA", bld.get(), source, index);
  if (!pkey) return pkey;
  if (EVP_PKEY_get_bits(pkey->get()) < 2048) {
    return keyError(source, index,
                    "RSA key of " + std::to_string(EVP_PKEY_get_bits(pkey->get())) +
                        " bits; at least 2048 are required");
  }
  return pkey;
}

Result<ossl::EvpPkeyPtr> ecKey(const json& key, const char* group, size_t field_bytes,
                               std::string_view source, size_t index) {
  auto x = member(key, "x", source, index);
  if (!x) return x.error();
  auto y = member(key, "y", source, index);
  if (!y) return y.error();
  if (x->size() != field_bytes || y->size() != field_bytes) {
    return keyError(source, index, std::string("coordinates of the wrong length for ") + group);
  }
  std::string point = "\x04" + *x + *y;
  ossl::OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return ossl::lastError("building EC key");
  }
  return fromParams("EC", bld.get(), source, index);
}

Result<ossl::EvpPkeyPtr> ed25519Key(const json& key, std::string_view source, size_t index) {
  auto x = member(key, "x", source, index);
  if (!x) return x.error();
  if (x->size() != 32) return keyError(source, index, "Ed25519 \"x\" is not 32 bytes");
  ossl::EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size()));
  if (!pkey) return keyError(source, index, ossl::lastError("invalid Ed25519 key").detail);
  return pkey;
}

std::string stringOr(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::shared_ptr<const Jwks>> Jwks::parse(std::string_view text, std::string_view source) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return makeError(ErrorCode::kParse, Side::kConfig,
                     std::string(source) + ": JWKS is not a JSON object");
  }
  std::vector<const json*> entries;
  if (auto it = doc.find("keys"); it != doc.end()) {
    if (!it->is_array()) {
      return makeError(ErrorCode::kParse, Side::kConfig,
                       std::string(source) + ": \"keys\" is not an array");
    }
    for (const json& k : *it)
      entries.push_back(&k);
  } else {
    entries.push_back(&doc);
  }
  auto jwks = std::make_shared<Jwks>(Tag{});
  ossl::clearErrors();
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& k = *entries[i];
    if (!k.is_object()) return keyError(source, i, "not a JSON object");
    std::string kty = stringOr(k, "kty");
    std::string crv = stringOr(k, "crv");
    std::string use = stringOr(k, "use");
    if (!use.empty() && use != "sig") continue;
    Jwk jwk;
    jwk.kid = stringOr(k, "kid");
    jwk.alg = stringOr(k, "alg");
    Result<ossl::EvpPkeyPtr> key = ossl::EvpPkeyPtr();
    if (kty == "RSA") {
      jwk.kind = JwkKind::kRsa;
      key = rsaKey(k, source, i);
    } else if (kty == "EC" && crv == "P-256") {
      jwk.kind = JwkKind::kEcP256;
      key = ecKey(k, "P-256", 32, source, i);
    } else if (kty == "EC" && crv == "P-384") {
      jwk.kind = JwkKind::kEcP384;
      key = ecKey(k, "P-384", 48, source, i);
    } else if (kty == "OKP" && crv == "Ed25519") {
      jwk.kind = JwkKind::kEd25519;
      key = ed25519Key(k, source, i);
    } else if (kty.empty()) {
      return keyError(source, i, "\"kty\" is missing");
    } else {
      continue;  // a kind of key no supported alg uses
    }
    if (!key) return key.error();
    jwk.key = std::move(key).value();
    jwks->keys_.push_back(std::move(jwk));
  }
  if (jwks->keys_.empty()) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     std::string(source) + ": JWKS has no usable signature key");
  }
  return std::shared_ptr<const Jwks>(std::move(jwks));
}

}  // namespace meshnode::security
