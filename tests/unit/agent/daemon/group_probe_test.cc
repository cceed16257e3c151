#include "agent/daemon/group_probe.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

namespace meshnode::agent::daemon {
namespace {

namespace fs = std::filesystem;

class GroupProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mn-probe-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

constexpr const char* kOther = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec: {hosts: [web.shop.test]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: shop-vm, namespace: other}
spec:
  probe: {tcpSocket: {port: 1}}
)";

TEST_F(GroupProbeTest, TheGroupsProbeIsReadWithItsTypes) {
  write("a.yaml", kOther);
  write("sub/group.yml", R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: shop-vm, namespace: shop}
spec:
  template: {serviceAccount: shop}
  probe:
    periodSeconds: 2
    failureThreshold: 4
    httpGet: {port: 8080, path: /healthz, httpHeaders: [{name: x-probe, value: "1"}]}
)");
  auto probe = findGroupProbe(dir_.string(), "shop-vm", "shop");
  ASSERT_TRUE(probe.ok()) << probe.error().detail;
  ASSERT_TRUE(probe->has_value());
  const Probe& p = **probe;
  EXPECT_EQ(p.period_seconds, 2u);
  EXPECT_EQ(p.failure_threshold, 4u);
  const auto& get = std::get<HttpGetAction>(p.action);
  EXPECT_EQ(get.port, 8080);
  EXPECT_EQ(get.path, "/healthz");
  ASSERT_EQ(get.headers.size(), 1u);
  EXPECT_EQ(get.headers[0].second, "1") << "a quoted number stays a string";
}

TEST_F(GroupProbeTest, AGroupWithoutAProbeOrNoGroupHasNone) {
  write("a.yaml", kOther);
  auto none = findGroupProbe(dir_.string(), "shop-vm", "shop");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(GroupProbeTest, AnInvalidProbeNamesFileLineAndField) {
  write("g.yaml", R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: shop-vm, namespace: shop}
spec:
  template: {serviceAccount: shop}
  probe:
    tcpSocket: {port: 70000}
)");
  auto bad = findGroupProbe(dir_.string(), "shop-vm", "shop");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find((dir_ / "g.yaml").string() + ":7: WorkloadGroup shop/shop-vm"),
            std::string::npos)
      << bad.error().detail;
  EXPECT_NE(bad.error().detail.find("port"), std::string::npos);
}

}  // namespace
}  // namespace meshnode::agent::daemon
