#include "security/jwt.h"

#include <nlohmann/json.hpp>

#include "common/openssl.h"
#include "security/base64url.h"

namespace meshnode::security {

using nlohmann::json;

namespace {

Error refused(std::string detail) {
  return makeError(ErrorCode::kRefused, Side::kDownstream, "JWT " + std::move(detail));
}

const EVP_MD* digestOf(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRS256:
    case JwsAlg::kPS256:
    case JwsAlg::kES256:
      return EVP_sha256();
    case JwsAlg::kRS384:
    case JwsAlg::kPS384:
    case JwsAlg::kES384:
      return EVP_sha384();
    case JwsAlg::kRS512:
    case JwsAlg::kPS512:
      return EVP_sha512();
    case JwsAlg::kEdDSA:
      return nullptr;
  }
  return nullptr;
}

bool fits(JwsAlg alg, const Jwk& key) {
  if (!key.alg.empty() && key.alg != toString(alg)) return false;
  switch (alg) {
    case JwsAlg::kRS256:
    case JwsAlg::kRS384:
    case JwsAlg::kRS512:
    case JwsAlg::kPS256:
    case JwsAlg::kPS384:
    case JwsAlg::kPS512:
      return key.kind == JwkKind::kRsa;
    case JwsAlg::kES256:
      return key.kind == JwkKind::kEcP256;
    case JwsAlg::kES384:
      return key.kind == JwkKind::kEcP384;
    case JwsAlg::kEdDSA:
      return key.kind == JwkKind::kEd25519;
  }
  return false;
}

// JWS carries ECDSA signatures as R || S of fixed width; OpenSSL wants DER.
std::optional<std::string> ecdsaToDer(std::string_view raw, size_t half) {
  if (raw.size() != 2 * half) return std::nullopt;
  auto bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ossl::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) return std::nullopt;
  return der;
}

bool verifyWith(const CompactJws& jws, const Jwk& key) {
  std::string signature = jws.signature;
  if (jws.alg == JwsAlg::kES256 || jws.alg == JwsAlg::kES384) {
    auto der = ecdsaToDer(signature, jws.alg == JwsAlg::kES256 ? 32 : 48);
    if (!der) return false;
    signature = std::move(*der);
  }
  ossl::EvpMdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!md ||
      EVP_DigestVerifyInit(md.get(), &pctx, digestOf(jws.alg), nullptr, key.key.get()) != 1) {
    ossl::clearErrors();
    return false;
  }
  if (jws.alg == JwsAlg::kPS256 || jws.alg == JwsAlg::kPS384 || jws.alg == JwsAlg::kPS512) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      ossl::clearErrors();
      return false;
    }
  }
  int ok = EVP_DigestVerify(
      md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(jws.signing_input.data()), jws.signing_input.size());
  ossl::clearErrors();
  return ok == 1;
}

std::optional<double> numericClaim(const json& claims, const char* name, bool* malformed) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number()) {
    *malformed = true;
    return std::nullopt;
  }
  return it->get<double>();
}

}  // namespace

Result<JwsAlg> parseJwsAlg(std::string_view name) {
  static constexpr std::pair<std::string_view, JwsAlg> kAlgs[] = {
      {"RS256", JwsAlg::kRS256}, {"RS384", JwsAlg::kRS384}, {"RS512", JwsAlg::kRS512},
      {"PS256", JwsAlg::kPS256}, {"PS384", JwsAlg::kPS384}, {"PS512", JwsAlg::kPS512},
      {"ES256", JwsAlg::kES256}, {"ES384", JwsAlg::kES384}, {"EdDSA", JwsAlg::kEdDSA},
  };
  for (const auto& [text, alg] : kAlgs) {
    if (name == text) return alg;
  }
  if (name == "none") return refused("alg \"none\" is not accepted");
  if (name.substr(0, 2) == "HS") {
    return refused("alg \"" + std::string(name) + "\" (shared secret) is not accepted");
  }
  return refused("alg \"" + std::string(name) + "\" is not supported");
}

const char* toString(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRS256:
      return "RS256";
    case JwsAlg::kRS384:
      return "RS384";
    case JwsAlg::kRS512:
      return "RS512";
    case JwsAlg::kPS256:
      return "PS256";
    case JwsAlg::kPS384:
      return "PS384";
    case JwsAlg::kPS512:
      return "PS512";
    case JwsAlg::kES256:
      return "ES256";
    case JwsAlg::kES384:
      return "ES384";
    case JwsAlg::kEdDSA:
      return "EdDSA";
  }
  return "?";
}

Result<CompactJws> parseCompactJws(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) {
    return refused("of " + std::to_string(token.size()) + " bytes exceeds the limit of " +
                   std::to_string(max_bytes));
  }
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refused("is not a compact JWS (three base64url parts separated by '.')");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view sig_b64 = token.substr(dot2 + 1);
  auto header = base64UrlDecode(header_b64);
  if (!header || header->empty()) return refused("header is not base64url");
  json h = json::parse(*header, nullptr, /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) return refused("header is not a JSON object");
  auto alg_it = h.find("alg");
  if (alg_it == h.end() || !alg_it->is_string()) return refused("header has no \"alg\"");
  auto alg = parseJwsAlg(alg_it->get<std::string>());
  if (!alg) return alg.error();
  auto payload = base64UrlDecode(payload_b64);
  if (!payload) return refused("payload is not base64url");
  auto signature = base64UrlDecode(sig_b64);
  if (!signature) return refused("signature is not base64url");
  if (signature->empty()) return refused("has no signature");
  // RFC 7515 4.1.11: an extension the verifier does not understand must fail verification.
  if (h.contains("crit")) return refused("header lists \"crit\" extensions, none are supported");
  CompactJws out;
  out.alg = *alg;
  if (auto kid = h.find("kid"); kid != h.end()) {
    if (!kid->is_string()) return refused("header \"kid\" is not a string");
    out.kid = kid->get<std::string>();
  }
  out.header_json = std::move(*header);
  out.payload = std::move(*payload);
  out.payload_b64 = std::string(payload_b64);
  out.signature = std::move(*signature);
  out.signing_input = std::string(token.substr(0, dot2));
  return out;
}

Status verifyJwsSignature(const CompactJws& jws, const Jwks& jwks) {
  bool kid_known = false;
  bool any_fit = false;
  for (const Jwk& key : jwks.keys()) {
    if (!jws.kid.empty()) {
      if (key.kid != jws.kid) continue;
      kid_known = true;
    }
    if (!fits(jws.alg, key)) continue;
    any_fit = true;
    if (verifyWith(jws, key)) return {};
  }
  if (!jws.kid.empty() && !kid_known) return refused("kid \"" + jws.kid + "\" is not in the JWKS");
  if (!any_fit) return refused(std::string("has no key for alg ") + toString(jws.alg));
  return refused("signature does not verify");
}

Result<VerifiedJwt> verifyJwt(std::string_view token, const JwtProvider& provider, SystemTime now) {
  auto jws = parseCompactJws(token, provider.max_token_bytes);
  if (!jws) return jws.error();
  if (!provider.jwks) return refused("provider " + provider.issuer + " has no keys");
  if (Status s = verifyJwsSignature(*jws, *provider.jwks); !s) return s.error();

  auto claims = std::make_shared<json>(json::parse(jws->payload, nullptr, false));
  if (claims->is_discarded() || !claims->is_object()) {
    return refused("payload is not a JSON object");
  }
  auto iss = claims->find("iss");
  if (iss == claims->end() || !iss->is_string()) return refused("has no \"iss\"");
  if (iss->get<std::string>() != provider.issuer) {
    return refused("issuer \"" + iss->get<std::string>() + "\" is not \"" + provider.issuer + "\"");
  }
  if (auto sub = claims->find("sub"); sub != claims->end() && !sub->is_string()) {
    return refused("\"sub\" is not a string");
  }
  double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  double skew = static_cast<double>(provider.clock_skew.count());
  bool malformed = false;
  auto exp = numericClaim(*claims, "exp", &malformed);
  auto nbf = numericClaim(*claims, "nbf", &malformed);
  if (malformed) return refused("\"exp\" or \"nbf\" is not a number");
  if (exp && now_s > *exp + skew) return refused("expired");
  if (nbf && now_s + skew < *nbf) return refused("is not yet valid");

  VerifiedJwt out;
  out.claims = JwtClaims(std::move(claims));
  if (!provider.audiences.empty()) {
    bool match = false;
    for (const std::string& aud : out.claims.audiences()) {
      for (const std::string& want : provider.audiences)
        match = match || aud == want;
    }
    if (!match) return refused("audience is not one of the allowed audiences");
  }
  out.alg = jws->alg;
  out.kid = jws->kid;
  out.payload_b64 = std::move(jws->payload_b64);
  return out;
}

std::optional<std::string> extractJwt(
    const JwtLocations& locations, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view query) {
  for (const JwtHeaderLocation& loc : locations.headers) {
    for (const auto& [name, value] : headers) {
      if (name != loc.name) continue;
      if (value.size() <= loc.prefix.size() ||
          value.compare(0, loc.prefix.size(), loc.prefix) != 0) {
        continue;
      }
      return value.substr(loc.prefix.size());
    }
  }
  for (const std::string& param : locations.params) {
    std::string_view rest = query;
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != param || eq + 1 == pair.size()) {
        continue;
      }
      return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

}  // namespace meshnode::security
