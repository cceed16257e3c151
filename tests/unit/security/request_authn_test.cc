#include "security/request_authn.h"

#include <gtest/gtest.h>

#include "tests/unit/security/jwt_test_keys.h"

namespace meshnode::security {
namespace {

using namespace testing;
using Headers = std::vector<std::pair<std::string, std::string>>;

class RequestAuthnTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    a_ = EVP_EC_gen("P-256");
    b_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(a_);
    EVP_PKEY_free(b_);
  }

  static JwtRule rule(const std::string& issuer, EVP_PKEY* key) {
    JwtRule r;
    r.provider.issuer = issuer;
    r.provider.jwks = Jwks::parse(publicJwk(key, ""), issuer).value();
    return r;
  }

  std::string token(EVP_PKEY* key, const std::string& iss, int64_t exp_offset = 600,
                    const std::string& extra = "") const {
    JwsAlg alg = key == a_ ? JwsAlg::kES256 : JwsAlg::kEdDSA;
    return signToken(key, alg, std::string("{\"alg\":\"") + toString(alg) + "\"}",
                     "{\"iss\":\"" + iss + "\",\"sub\":\"bob\",\"exp\":" +
                         std::to_string(now_s_ + exp_offset) + extra + "}");
  }

  static inline EVP_PKEY* a_ = nullptr;
  static inline EVP_PKEY* b_ = nullptr;
  int64_t now_s_ = 1'800'000'000;
  SystemTime now_ = SystemTime(std::chrono::seconds(now_s_));
};

TEST_F(RequestAuthnTest, NoTokenPassesWithoutPrincipal) {
  auto out = authenticateRequest({rule("https://a", a_)}, {{"accept", "*/*"}}, "", now_);
  EXPECT_EQ(out.status, JwtOutcome::Status::kNoToken);
  EXPECT_FALSE(out.jwt.has_value());
}

TEST_F(RequestAuthnTest, BearerTokenVerifiesAndIsStripped) {
  Headers h = {{"authorization", "Bearer " + token(a_, "https://a")}};
  auto out = authenticateRequest({rule("https://a", a_)}, h, "", now_);
  ASSERT_EQ(out.status, JwtOutcome::Status::kVerified) << out.error->describe();
  EXPECT_EQ(out.jwt->principal(), "https://a/bob");
  EXPECT_EQ(out.headers.remove, std::vector<std::string>{"authorization"});
}

TEST_F(RequestAuthnTest, SecondProviderMatchesItsIssuer) {
  Headers h = {{"authorization", "Bearer " + token(b_, "https://b")}};
  auto out = authenticateRequest({rule("https://a", a_), rule("https://b", b_)}, h, "", now_);
  ASSERT_EQ(out.status, JwtOutcome::Status::kVerified);
  EXPECT_EQ(out.jwt->principal(), "https://b/bob");
}

TEST_F(RequestAuthnTest, InvalidTokenIsRefused) {
  Headers h = {{"authorization", "Bearer " + token(a_, "https://a", -3600)}};
  auto out = authenticateRequest({rule("https://a", a_)}, h, "", now_);
  ASSERT_EQ(out.status, JwtOutcome::Status::kInvalid);
  EXPECT_NE(out.error->detail.find("expired"), std::string::npos);
  auto forged = authenticateRequest(
      {rule("https://a", a_)}, {{"authorization", "Bearer " + token(b_, "https://a")}}, "", now_);
  EXPECT_EQ(forged.status, JwtOutcome::Status::kInvalid);
}

TEST_F(RequestAuthnTest, FromHeadersFromParamsAndOutputs) {
  JwtRule r = rule("https://a", a_);
  r.locations.headers = {{"x-jwt", "Token "}};
  r.locations.params = {"jwt"};
  r.forward_original_token = true;
  r.output_payload_to_header = "x-jwt-payload";
  r.output_claim_to_headers = {{"x-user", "sub"}, {"x-team", "org.team"}, {"x-none", "missing"}};
  std::string t = token(a_, "https://a", 600, R"(,"org":{"team":"blue"})");
  auto by_header = authenticateRequest({r}, {{"x-jwt", "Token " + t}}, "", now_);
  ASSERT_EQ(by_header.status, JwtOutcome::Status::kVerified);
  EXPECT_TRUE(by_header.headers.remove.empty());
  ASSERT_EQ(by_header.headers.set.size(), 3u);
  EXPECT_EQ(by_header.headers.set[0].first, "x-jwt-payload");
  EXPECT_EQ(by_header.headers.set[0].second,
            t.substr(t.find('.') + 1, t.rfind('.') - t.find('.') - 1));
  EXPECT_EQ(by_header.headers.set[1], (std::pair<std::string, std::string>{"x-user", "bob"}));
  EXPECT_EQ(by_header.headers.set[2], (std::pair<std::string, std::string>{"x-team", "blue"}));
  auto by_param = authenticateRequest({r}, {}, "a=1&jwt=" + t, now_);
  EXPECT_EQ(by_param.status, JwtOutcome::Status::kVerified);
  // The default Authorization header is not one of this rule's locations.
  auto elsewhere = authenticateRequest({r}, {{"authorization", "Bearer " + t}}, "", now_);
  EXPECT_EQ(elsewhere.status, JwtOutcome::Status::kNoToken);
}

}  // namespace
}  // namespace meshnode::security
