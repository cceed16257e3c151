#include "security/spiffe_id.h"

#include <gtest/gtest.h>

#include "security/sni.h"

namespace meshnode::security {
namespace {

TEST(SpiffeId, ParsesIstioForm) {
  auto id = parseSpiffeId("spiffe://cluster.local/ns/default/sa/sleep");
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_EQ(id->trust_domain, "cluster.local");
  EXPECT_EQ(id->ns, "default");
  EXPECT_EQ(id->sa, "sleep");
  EXPECT_EQ(id->principal(), "cluster.local/ns/default/sa/sleep");
  EXPECT_EQ(id->uri(), "spiffe://cluster.local/ns/default/sa/sleep");
}

TEST(SpiffeId, RejectsEverythingElse) {
  for (const char* bad : {
           "http://cluster.local/ns/default/sa/sleep",
           "SPIFFE://cluster.local/ns/default/sa/sleep",
           "spiffe://Cluster.Local/ns/default/sa/sleep",
           "spiffe://cluster.local/ns/default",
           "spiffe://cluster.local/ns/default/sa/sleep/extra",
           "spiffe://cluster.local/sa/sleep/ns/default",
           "spiffe://cluster.local/ns//sa/sleep",
           "spiffe://cluster.local/ns/../sa/sleep",
           "spiffe://cluster.local/ns/de%66ault/sa/sleep",
           "spiffe://cluster.local:443/ns/default/sa/sleep",
           "spiffe://user@cluster.local/ns/default/sa/sleep",
           "spiffe://cluster.local/ns/default/sa/sleep?x=1",
           "spiffe:///ns/default/sa/sleep",
       }) {
    auto id = parseSpiffeId(bad);
    EXPECT_FALSE(id.ok()) << bad;
    if (!id.ok()) {
      EXPECT_NE(id.error().detail.find(bad), std::string::npos);
    }
  }
}

TEST(Sni, FormatsIstioOutboundName) {
  EXPECT_EQ(outboundSni(9080, "v1", "reviews.default.svc.cluster.local"),
            "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
  EXPECT_EQ(outboundSni(80, "", "httpbin.foo.svc.cluster.local"),
            "outbound_.80_._.httpbin.foo.svc.cluster.local");
}

TEST(Sni, ParsesWhatItFormats) {
  auto sni = parseOutboundSni("outbound_.9080_.v1_.reviews.default.svc.cluster.local");
  ASSERT_TRUE(sni.has_value());
  EXPECT_EQ(sni->port, 9080);
  EXPECT_EQ(sni->subset, "v1");
  EXPECT_EQ(sni->fqdn, "reviews.default.svc.cluster.local");
  auto plain = parseOutboundSni("outbound_.80_._.httpbin.foo.svc.cluster.local");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->subset, "");
  for (const char* bad : {"reviews.default.svc", "outbound_.x_.v1_.a", "outbound_.0_._.a",
                          "outbound_.70000_._.a", "outbound_.80_._.", "inbound_.80_._.a"}) {
    EXPECT_FALSE(parseOutboundSni(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace meshnode::security
