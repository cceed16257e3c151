#include "security/jwt.h"

#include <gtest/gtest.h>

#include "security/base64url.h"
#include "tests/unit/security/jwt_test_keys.h"

namespace meshnode::security {
namespace {

using namespace testing;
using std::chrono::seconds;

// RFC 7515 appendix A.2 and A.3, RFC 7519 section 3.1 and 6.1 (same claims: iss "joe",
// exp 1300819380, "http://example.com/is_root": true), RFC 8037 appendix A.4.
constexpr const char* kRfcPayload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
    "fQ";
const std::string kRs256Token =
    std::string("eyJhbGciOiJSUzI1NiJ9.") + kRfcPayload +
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
constexpr const char* kRs256Jwks =
    R"({"keys":[{"kty":"RSA","kid":"rfc7515-a2","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}]})";
const std::string kEs256Token =
    std::string("eyJhbGciOiJFUzI1NiJ9.") + kRfcPayload +
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
constexpr const char* kEs256Jwks =
    R"({"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";
constexpr const char* kEd25519Token =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3"
    "AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
constexpr const char* kEd25519Jwks =
    R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
const std::string kRfc7519Hs256Token = std::string("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.") +
                                       kRfcPayload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kRfc7519UnsecuredToken = std::string("eyJhbGciOiJub25lIn0.") + kRfcPayload + ".";

const SystemTime kRfcNow = SystemTime(seconds(1300819000));

std::shared_ptr<const Jwks> jwks(const std::string& text) {
  auto parsed = Jwks::parse(text, "test-jwks");
  EXPECT_TRUE(parsed.ok()) << parsed.error().describe();
  return parsed.ok() ? *parsed : nullptr;
}

JwtProvider provider(const std::string& issuer, std::shared_ptr<const Jwks> keys) {
  JwtProvider p;
  p.issuer = issuer;
  p.jwks = std::move(keys);
  return p;
}

std::string refusal(const Result<VerifiedJwt>& r) {
  if (r.ok()) return "(accepted)";
  EXPECT_EQ(r.error().code, ErrorCode::kRefused);
  EXPECT_EQ(r.error().side, Side::kDownstream);
  return r.error().detail;
}

#define EXPECT_REFUSED(result, text) \
  EXPECT_NE(refusal(result).find(text), std::string::npos) << refusal(result)

TEST(JwtRfc, Rfc7515A2Rs256Verifies) {
  auto v = verifyJwt(kRs256Token, provider("joe", jwks(kRs256Jwks)), kRfcNow);
  ASSERT_TRUE(v.ok()) << v.error().describe();
  EXPECT_EQ(v->alg, JwsAlg::kRS256);
  EXPECT_EQ(v->claims.issuer(), "joe");
  EXPECT_EQ(v->claims.headerValue({"http://example.com/is_root"}), "true");
  EXPECT_EQ(v->principal(), "joe/");
  EXPECT_EQ(v->payload_b64, kRfcPayload);
}

TEST(JwtRfc, Rfc7515A3Es256Verifies) {
  auto v = verifyJwt(kEs256Token, provider("joe", jwks(kEs256Jwks)), kRfcNow);
  ASSERT_TRUE(v.ok()) << v.error().describe();
  EXPECT_EQ(v->alg, JwsAlg::kES256);
}

TEST(JwtRfc, Rfc8037A4Ed25519SignatureVerifies) {
  auto jws = parseCompactJws(kEd25519Token);
  ASSERT_TRUE(jws.ok()) << jws.error().describe();
  EXPECT_EQ(jws->alg, JwsAlg::kEdDSA);
  EXPECT_EQ(jws->payload, "Example of Ed25519 signing");
  EXPECT_TRUE(verifyJwsSignature(*jws, *jwks(kEd25519Jwks)).ok());
  // Its payload is text, not claims: a valid signature but not a JWT.
  EXPECT_REFUSED(verifyJwt(kEd25519Token, provider("joe", jwks(kEd25519Jwks)), kRfcNow),
                 "payload is not a JSON object");
}

TEST(JwtRfc, Rfc8037SignatureOverOtherBytesFails) {
  std::string token = kEd25519Token;
  token[25] = token[25] == 'A' ? 'B' : 'A';  // inside the payload
  auto jws = parseCompactJws(token);
  ASSERT_TRUE(jws.ok());
  EXPECT_FALSE(verifyJwsSignature(*jws, *jwks(kEd25519Jwks)).ok());
}

TEST(JwtRfc, Rfc7519Hs256ExampleIsRefused) {
  EXPECT_REFUSED(verifyJwt(kRfc7519Hs256Token, provider("joe", jwks(kRs256Jwks)), kRfcNow),
                 "alg \"HS256\" (shared secret) is not accepted");
}

TEST(JwtRfc, Rfc7519UnsecuredJwtIsRefused) {
  EXPECT_REFUSED(verifyJwt(kRfc7519UnsecuredToken, provider("joe", jwks(kRs256Jwks)), kRfcNow),
                 "alg \"none\" is not accepted");
}

TEST(JwtRfc, Rfc7515A2IsExpiredToday) {
  EXPECT_REFUSED(
      verifyJwt(kRs256Token, provider("joe", jwks(kRs256Jwks)), std::chrono::system_clock::now()),
      "expired");
}

TEST(JwtRfc, Rfc7515A2WithTamperedPayloadFails) {
  std::string token = kRs256Token;
  size_t at = token.find('.') + 10;
  token[at] = token[at] == 'A' ? 'B' : 'A';
  EXPECT_REFUSED(verifyJwt(token, provider("joe", jwks(kRs256Jwks)), kRfcNow),
                 "signature does not verify");
}

// Tokens minted by the test with fresh keys, one per algorithm family.
class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_RSA_gen(2048);
    p256_ = EVP_EC_gen("P-256");
    p384_ = EVP_EC_gen("P-384");
    ed_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(p256_);
    EVP_PKEY_free(p384_);
    EVP_PKEY_free(ed_);
  }

  JwtProvider provider() const {
    std::string text = "{\"keys\":[" + publicJwk(rsa_, "rsa") + "," + publicJwk(p256_, "p256") +
                       "," + publicJwk(p384_, "p384") + "," + publicJwk(ed_, "ed") + "]}";
    JwtProvider p;
    p.issuer = "https://issuer.example";
    p.audiences = {"bookinfo", "httpbin"};
    p.jwks = jwks(text);
    return p;
  }

  static std::string header(JwsAlg alg, const std::string& kid) {
    return std::string("{\"alg\":\"") + toString(alg) + "\",\"kid\":\"" + kid + "\"}";
  }

  std::string claims(const std::string& extra = "") const {
    return "{\"iss\":\"https://issuer.example\",\"sub\":\"alice\",\"aud\":\"httpbin\",\"exp\":" +
           std::to_string(now_s_ + 600) + extra + "}";
  }

  Result<VerifiedJwt> verify(const std::string& token) const {
    return verifyJwt(token, provider(), now_);
  }

  static inline EVP_PKEY* rsa_ = nullptr;
  static inline EVP_PKEY* p256_ = nullptr;
  static inline EVP_PKEY* p384_ = nullptr;
  static inline EVP_PKEY* ed_ = nullptr;
  int64_t now_s_ = 1'800'000'000;
  SystemTime now_ = SystemTime(seconds(now_s_));
};

TEST_F(JwtTest, EveryAlgorithmVerifies) {
  struct Case {
    JwsAlg alg;
    EVP_PKEY* key;
    const char* kid;
  };
  for (const Case& c : {Case{JwsAlg::kRS256, rsa_, "rsa"}, Case{JwsAlg::kRS384, rsa_, "rsa"},
                        Case{JwsAlg::kRS512, rsa_, "rsa"}, Case{JwsAlg::kPS256, rsa_, "rsa"},
                        Case{JwsAlg::kPS384, rsa_, "rsa"}, Case{JwsAlg::kPS512, rsa_, "rsa"},
                        Case{JwsAlg::kES256, p256_, "p256"}, Case{JwsAlg::kES384, p384_, "p384"},
                        Case{JwsAlg::kEdDSA, ed_, "ed"}}) {
    auto v = verify(signToken(c.key, c.alg, header(c.alg, c.kid), claims()));
    ASSERT_TRUE(v.ok()) << toString(c.alg) << ": " << v.error().describe();
    EXPECT_EQ(v->alg, c.alg);
    EXPECT_EQ(v->principal(), "https://issuer.example/alice");
  }
}

TEST_F(JwtTest, TokenWithoutKidFindsItsKey) {
  auto v = verify(signToken(p256_, JwsAlg::kES256, R"({"alg":"ES256"})", claims()));
  EXPECT_TRUE(v.ok()) << v.error().describe();
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  std::string token = b64(R"({"alg":"none"})") + "." + b64(claims()) + ".";
  EXPECT_REFUSED(verify(token), "alg \"none\" is not accepted");
  EXPECT_REFUSED(verify(token + "c2ln"), "alg \"none\" is not accepted");
}

TEST_F(JwtTest, Hs256WithThePublicKeyAsSecretIsRefused) {
  // The classic key-confusion attack: sign with HMAC keyed by the RSA public key the
  // verifier holds, and hope it uses the key as a secret.
  std::string public_pem = publicJwk(rsa_, "rsa");
  std::string token = hs256Token(public_pem, R"({"alg":"HS256","kid":"rsa"})", claims());
  EXPECT_REFUSED(verify(token), "alg \"HS256\" (shared secret) is not accepted");
  EXPECT_REFUSED(verify(hs256Token("x", R"({"alg":"HS512"})", claims())), "HS512");
}

TEST_F(JwtTest, UnknownKidIsRefused) {
  auto token = signToken(rsa_, JwsAlg::kRS256, header(JwsAlg::kRS256, "rotated-away"), claims());
  EXPECT_REFUSED(verify(token), "kid \"rotated-away\" is not in the JWKS");
}

TEST_F(JwtTest, KeyOfTheWrongKindIsRefused) {
  auto token = signToken(p256_, JwsAlg::kES256, header(JwsAlg::kES256, "rsa"), claims());
  EXPECT_REFUSED(verify(token), "has no key for alg ES256");
  auto swapped = signToken(rsa_, JwsAlg::kRS256, header(JwsAlg::kPS256, "rsa"), claims());
  EXPECT_REFUSED(verify(swapped), "signature does not verify");
}

TEST_F(JwtTest, ExpiredIsRefusedBeyondClockSkew) {
  std::string body = R"({"iss":"https://issuer.example","aud":"httpbin","exp":)" +
                     std::to_string(now_s_ - 61) + "}";
  EXPECT_REFUSED(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), body)),
                 "expired");
  std::string within = R"({"iss":"https://issuer.example","aud":"httpbin","exp":)" +
                       std::to_string(now_s_ - 30) + "}";
  EXPECT_TRUE(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), within)).ok());
}

TEST_F(JwtTest, NotYetValidIsRefusedBeyondClockSkew) {
  auto token = signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"),
                         claims(",\"nbf\":" + std::to_string(now_s_ + 120)));
  EXPECT_REFUSED(verify(token), "is not yet valid");
  auto within = signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"),
                          claims(",\"nbf\":" + std::to_string(now_s_ + 30)));
  EXPECT_TRUE(verify(within).ok());
}

TEST_F(JwtTest, NonNumericExpIsRefused) {
  std::string body = R"({"iss":"https://issuer.example","aud":"httpbin","exp":"tomorrow"})";
  EXPECT_REFUSED(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), body)),
                 "not a number");
}

TEST_F(JwtTest, WrongIssuerIsRefused) {
  std::string body = R"({"iss":"https://evil.example","aud":"httpbin"})";
  EXPECT_REFUSED(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), body)),
                 "issuer \"https://evil.example\" is not \"https://issuer.example\"");
  EXPECT_REFUSED(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), "{}")),
                 "has no \"iss\"");
}

TEST_F(JwtTest, AudiencesMustIntersect) {
  std::string wrong = R"({"iss":"https://issuer.example","aud":"other"})";
  EXPECT_REFUSED(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), wrong)),
                 "audience");
  std::string none = R"({"iss":"https://issuer.example"})";
  EXPECT_REFUSED(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), none)),
                 "audience");
  std::string list = R"({"iss":"https://issuer.example","aud":["x","bookinfo"]})";
  EXPECT_TRUE(verify(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), list)).ok());
  JwtProvider any = provider();
  any.audiences.clear();
  EXPECT_TRUE(
      verifyJwt(signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), wrong), any, now_)
          .ok());
}

TEST_F(JwtTest, MalformedBase64IsRefused) {
  std::string good = signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), claims());
  size_t dot1 = good.find('.');
  size_t dot2 = good.rfind('.');
  std::string padded = good.substr(0, dot1) + "=" + good.substr(dot1);
  EXPECT_REFUSED(verify(padded), "header is not base64url");
  std::string plus = good.substr(0, dot1 + 1) + "+" + good.substr(dot1 + 2);
  EXPECT_REFUSED(verify(plus), "payload is not base64url");
  std::string space = good.substr(0, dot2 + 1) + " " + good.substr(dot2 + 1);
  EXPECT_REFUSED(verify(space), "signature is not base64url");
  EXPECT_REFUSED(verify("not-a-token"), "is not a compact JWS");
  EXPECT_REFUSED(verify(good + ".x"), "is not a compact JWS");
  EXPECT_REFUSED(verify(b64("[]") + "." + b64("{}") + ".c2ln"), "header is not a JSON object");
}

TEST_F(JwtTest, OversizedTokenIsRefused) {
  std::string big = claims(",\"pad\":\"" + std::string(20000, 'a') + "\"");
  auto token = signToken(ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"), big);
  EXPECT_REFUSED(verify(token), "exceeds the limit of 16384");
}

TEST_F(JwtTest, CritHeaderIsRefused) {
  auto token = signToken(ed_, JwsAlg::kEdDSA,
                         R"({"alg":"EdDSA","kid":"ed","crit":["exp"],"exp":1})", claims());
  EXPECT_REFUSED(verify(token), "crit");
}

TEST_F(JwtTest, ClaimsServeAuthorizationAndHeaders) {
  auto token = signToken(
      ed_, JwsAlg::kEdDSA, header(JwsAlg::kEdDSA, "ed"),
      claims(R"(,"azp":"web","groups":["admin","dev"],"n":{"team":"blue","level":3},"ok":true)"));
  auto v = verify(token);
  ASSERT_TRUE(v.ok()) << v.error().describe();
  EXPECT_EQ(v->claims.strings({"groups"}), (std::vector<std::string>{"admin", "dev"}));
  EXPECT_EQ(v->claims.strings({"n", "team"}), std::vector<std::string>{"blue"});
  EXPECT_TRUE(v->claims.strings({"n", "level"}).empty());
  EXPECT_TRUE(v->claims.strings({"missing"}).empty());
  EXPECT_EQ(v->claims.headerValue({"groups"}), "admin,dev");
  EXPECT_EQ(v->claims.headerValue({"n", "level"}), "3");
  EXPECT_EQ(v->claims.headerValue(splitClaimPath("n.team")), "blue");
  EXPECT_EQ(v->claims.headerValue({"ok"}), "true");
  EXPECT_EQ(v->claims.headerValue({"n"}), std::nullopt);
  EXPECT_EQ(v->claims.presenter(), "web");
  EXPECT_EQ(v->claims.audiences(), std::vector<std::string>{"httpbin"});
  EXPECT_EQ(
      base64UrlDecode(v->payload_b64).value_or(""),
      claims(R"(,"azp":"web","groups":["admin","dev"],"n":{"team":"blue","level":3},"ok":true)"));
}

TEST(JwtLocation, FindsTokenInHeadersThenParams) {
  JwtLocations defaults;
  std::vector<std::pair<std::string, std::string>> headers = {{"authorization", "Bearer abc"}};
  EXPECT_EQ(extractJwt(defaults, headers, ""), "abc");
  EXPECT_EQ(extractJwt(defaults, {{"authorization", "Basic abc"}}, "x=1&access_token=def"), "def");
  EXPECT_EQ(extractJwt(defaults, {}, "access_token="), std::nullopt);
  JwtLocations custom;
  custom.headers = {{"x-jwt-assertion", ""}};
  custom.params = {"token"};
  EXPECT_EQ(extractJwt(custom, {{"x-jwt-assertion", "ghi"}}, ""), "ghi");
  EXPECT_EQ(extractJwt(custom, headers, "token=jkl"), "jkl");
}

TEST(Base64Url, IsStrict) {
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64UrlDecode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(base64UrlDecode(""), std::string());
  EXPECT_FALSE(base64UrlDecode("-_8=").has_value());
  EXPECT_FALSE(base64UrlDecode("+/8").has_value());
  EXPECT_FALSE(base64UrlDecode("-_9").has_value());  // non-zero unused bits
  EXPECT_FALSE(base64UrlDecode("A").has_value());
  EXPECT_FALSE(base64UrlDecode("AB CD").has_value());
}

TEST(JwksParse, RefusesWeakOrMalformedKeys) {
  ossl::EvpPkeyPtr small(EVP_RSA_gen(1024));
  auto weak = Jwks::parse(publicJwk(small.get(), "k"), "jwks.json");
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().detail.find("jwks.json: keys[0]: RSA key of 1024 bits"),
            std::string::npos);
  auto short_x =
      Jwks::parse(R"({"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]})", "jwks.json");
  ASSERT_FALSE(short_x.ok());
  EXPECT_NE(short_x.error().detail.find("keys[0]"), std::string::npos);
  auto off_curve = Jwks::parse(
      R"({"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"})",
      "jwks.json");
  EXPECT_FALSE(off_curve.ok());
  auto only_secret = Jwks::parse(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})", "jwks.json");
  ASSERT_FALSE(only_secret.ok());
  EXPECT_NE(only_secret.error().detail.find("no usable signature key"), std::string::npos);
  EXPECT_FALSE(Jwks::parse("{not json", "jwks.json").ok());
  EXPECT_FALSE(Jwks::parse(R"({"keys":{}})", "jwks.json").ok());
}

TEST(JwksParse, SkipsSecretAndEncryptionKeys) {
  std::string text = std::string(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"},)") +
                     R"({"kty":"EC","crv":"P-256","use":"enc","x":"a","y":"b"},)" +
                     std::string(kEd25519Jwks) + "]}";
  auto parsed = Jwks::parse(text, "jwks.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ((*parsed)->keys().size(), 1u);
}

}  // namespace
}  // namespace meshnode::security
