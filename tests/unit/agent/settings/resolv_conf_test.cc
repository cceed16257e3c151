#include "agent/settings/resolv_conf.h"

#include <gtest/gtest.h>

#include "agent/settings/default_route.h"

namespace meshnode::agent {
namespace {

TEST(ResolvConfTest, NameserversAndLastSearchLine) {
  ResolvConf rc = parseResolvConf(
      "; comment\nnameserver 198.18.0.53 # primary\ndomain old.test\nnameserver ::1\n"
      "search a.test. b.test\noptions ndots:5\n");
  EXPECT_EQ(rc.nameservers, (std::vector<std::string>{"198.18.0.53", "::1"}));
  EXPECT_EQ(rc.search, (std::vector<std::string>{"a.test", "b.test"}));
}

TEST(DefaultRouteTest, PicksLowestMetricDefaultRoute) {
  const char* route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth1\t00000000\t010012C6\t0003\t0\t0\t200\t00000000\t0\t0\t0\n"
      "eth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "eth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FEFFFF\t0\t0\t0\n";
  EXPECT_EQ(defaultRouteInterface(route), "eth0");
  EXPECT_EQ(defaultRouteInterface("Iface\tDestination\n"), std::nullopt);
}

TEST(DefaultRouteTest, Ipv6DefaultRouteSkipsLoopbackAndReject) {
  std::string zero(32, '0');
  std::string table = zero + " 00 " + zero + " 00 " + zero +
                      " ffffffff 00000001 00000000 00200200 lo\n" + zero + " 00 " + zero +
                      " 00 20010db8000000000000000000000001 00000400 "
                      "00000001 00000000 00000003 eth2\n";
  EXPECT_EQ(defaultRouteInterface6(table), "eth2");
}

}  // namespace
}  // namespace meshnode::agent
