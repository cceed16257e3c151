#include "proxy/http/cors.h"

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

CorsPolicy policy() {
  CorsPolicy p;
  StringMatch exact;
  exact.kind = StringMatchKind::kExact;
  exact.value = "https://app.example";
  StringMatch prefix;
  prefix.kind = StringMatchKind::kPrefix;
  prefix.value = "https://dev.";
  p.allow_origins = {exact, prefix};
  p.allow_methods = {"GET", "POST"};
  p.allow_headers = {"x-token", "content-type"};
  p.expose_headers = {"x-trace"};
  p.max_age = Millis(86400000);
  p.allow_credentials = true;
  return p;
}

RequestHead request(std::string method, HeaderList headers) {
  RequestHead r;
  r.method = std::move(method);
  r.path = "/";
  r.headers = std::move(headers);
  return r;
}

TEST(CorsTest, OriginMustMatch) {
  auto p = policy();
  EXPECT_NE(allowedOrigin(p, request("GET", {{"origin", "https://app.example"}})), nullptr);
  EXPECT_NE(allowedOrigin(p, request("GET", {{"origin", "https://dev.shop"}})), nullptr);
  EXPECT_EQ(allowedOrigin(p, request("GET", {{"origin", "https://evil.example"}})), nullptr);
  EXPECT_EQ(allowedOrigin(p, request("GET", {})), nullptr);
}

TEST(CorsTest, PreflightNeedsOptionsOriginAndRequestMethod) {
  EXPECT_TRUE(isCorsPreflight(
      request("OPTIONS", {{"origin", "https://a"}, {"access-control-request-method", "POST"}})));
  EXPECT_FALSE(isCorsPreflight(request("OPTIONS", {{"origin", "https://a"}})));
  EXPECT_FALSE(isCorsPreflight(
      request("GET", {{"origin", "https://a"}, {"access-control-request-method", "POST"}})));
}

TEST(CorsTest, PreflightAnswerCarriesThePolicy) {
  auto h = corsPreflightHeaders(policy(), "https://app.example");
  EXPECT_EQ(*findHeader(h, "access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(*findHeader(h, "access-control-allow-methods"), "GET,POST");
  EXPECT_EQ(*findHeader(h, "access-control-allow-headers"), "x-token,content-type");
  EXPECT_EQ(*findHeader(h, "access-control-max-age"), "86400");
  EXPECT_EQ(*findHeader(h, "access-control-allow-credentials"), "true");
  EXPECT_EQ(findHeader(h, "access-control-expose-headers"), nullptr);
}

TEST(CorsTest, ResponsesGetOriginAndExposeHeaders) {
  HeaderList h = {{"access-control-allow-origin", "*"}};
  addCorsResponseHeaders(h, policy(), "https://dev.shop");
  EXPECT_EQ(*findHeader(h, "access-control-allow-origin"), "https://dev.shop");
  EXPECT_EQ(*findHeader(h, "access-control-expose-headers"), "x-trace");
  EXPECT_EQ(*findHeader(h, "access-control-allow-credentials"), "true");
  CorsPolicy plain = policy();
  plain.allow_credentials.reset();
  plain.expose_headers.clear();
  HeaderList g;
  addCorsResponseHeaders(g, plain, "https://app.example");
  EXPECT_EQ(findHeader(g, "access-control-allow-credentials"), nullptr);
  EXPECT_EQ(findHeader(g, "access-control-expose-headers"), nullptr);
}

}  // namespace
}  // namespace meshnode::proxy
