#include "agent/source/http_fetch.h"

#include <gtest/gtest.h>

namespace meshnode::agent::source {
namespace {

TEST(ParseHttpUri, TakesSchemeHostPortAndTarget) {
  auto u = parseHttpUri("https://issuer.example/.well-known/jwks.json?v=2#frag");
  ASSERT_TRUE(u.ok()) << u.error().describe();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "issuer.example");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/.well-known/jwks.json?v=2");
  EXPECT_EQ(u->authority(), "issuer.example");

  auto v6 = parseHttpUri("http://[::1]:8080");
  ASSERT_TRUE(v6.ok()) << v6.error().describe();
  EXPECT_FALSE(v6->tls);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->target, "/");
  EXPECT_EQ(v6->authority(), "[::1]:8080");
}

TEST(ParseHttpUri, RefusesWhatItCannotFetchNamingTheUri) {
  for (const char* bad :
       {"ftp://issuer.example/jwks", "https://", "https://user@issuer/jwks",
        "https://issuer:99999/", "https://issuer:/x", "https://[::1/x", "https://issuer/a b"}) {
    auto u = parseHttpUri(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_NE(u.error().detail.find(bad), std::string::npos) << u.error().detail;
  }
}

}  // namespace
}  // namespace meshnode::agent::source
