#include "agent/daemon/mesh_state.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/istio/loader.h"

namespace meshnode::agent::daemon {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMesh = R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: shop-vm, namespace: shop, labels: {tier: back}}
spec:
  metadata: {labels: {app: shop}}
  template: {serviceAccount: shop-sa, network: net1, ports: {http: 8080}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.example.test]
  addresses: [198.18.1.10, 198.18.2.0/24]
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 198.18.0.2}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: shop}
spec:
  hosts: [db.example.test]
  resolution: DNS
  ports: [{number: 5432, name: tcp, protocol: TCP}]
)";

class MeshStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mn-mesh-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "mesh.yaml") << kMesh;
    settings_.file = "/etc/meshnode/agent.toml";
    settings_.config.directory = dir_.string();
    settings_.workload.group = "shop-vm";
    settings_.workload.name_space = "shop";
    settings_.workload.address = "198.18.0.1";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  AgentSettings settings_;
};

TEST_F(MeshStateTest, TheGroupTemplateBecomesTheEntryTemplate) {
  auto mesh = loadMesh(settings_, nullptr);
  ASSERT_TRUE(mesh.ok()) << mesh.error().detail;
  settings_.workload.network = "override";
  WorkloadTemplate t = workloadTemplate(settings_, mesh->resources);
  EXPECT_EQ(t.group, "shop-vm");
  EXPECT_EQ(t.labels.at("app"), "shop");
  EXPECT_EQ(t.service_account, "shop-sa");
  EXPECT_EQ(t.network, "override");
  EXPECT_EQ(t.ports.at("http"), 8080u);
}

TEST_F(MeshStateTest, DnsNamesAreServiceEntryHostsWithTheirAddressesButNoCidrs) {
  auto mesh = loadMesh(settings_, nullptr);
  ASSERT_TRUE(mesh.ok());
  auto hosts = meshHosts(mesh->resources);
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].name, "web.example.test");
  EXPECT_EQ(hosts[0].addresses, std::vector<std::string>{"198.18.1.10"});
  EXPECT_TRUE(hosts[1].addresses.empty());
}

TEST_F(MeshStateTest, ResolvedAddressesReachTheSnapshotAndChangeItsVersion) {
  auto mesh = loadMesh(settings_, nullptr);
  ASSERT_TRUE(mesh.ok());
  EXPECT_EQ(compiler::hostsToResolve(mesh->resources), std::vector<std::string>{"db.example.test"});
  auto a = compileFor(settings_, mesh->resources, {{"db.example.test", {"198.18.0.7"}}});
  ASSERT_TRUE(a.ok()) << a.error().detail;
  EXPECT_NE(a->json.find("198.18.0.7"), std::string::npos);
  auto b = compileFor(settings_, mesh->resources, {{"db.example.test", {"198.18.0.8"}}});
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->version, b->version);
  auto again = compileFor(settings_, mesh->resources, {{"db.example.test", {"198.18.0.7"}}});
  EXPECT_EQ(again->version, a->version);
}

TEST_F(MeshStateTest, AnUnknownGroupFailsTheCompile) {
  auto mesh = loadMesh(settings_, nullptr);
  settings_.workload.group = "other";
  auto out = compileFor(settings_, mesh->resources, {});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().detail.find("other"), std::string::npos) << out.error().detail;
}

TEST_F(MeshStateTest, AMissingDirectoryNamesTheSettingsKey) {
  settings_.config.directory = (dir_ / "gone").string();
  auto mesh = loadMesh(settings_, nullptr);
  ASSERT_FALSE(mesh.ok());
  EXPECT_NE(mesh.error().detail.find("/etc/meshnode/agent.toml: config.directory"),
            std::string::npos)
      << mesh.error().detail;
}

TEST_F(MeshStateTest, ASnapshotOnDiskIsReadBackWithItsVersion) {
  auto mesh = loadMesh(settings_, nullptr);
  auto out = compileFor(settings_, mesh->resources, {});
  ASSERT_TRUE(out.ok());
  std::ofstream(dir_ / "snapshot.json") << out->json;
  auto back = readSnapshotFile((dir_ / "snapshot.json").string());
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->version, out->version);
  std::ofstream(dir_ / "bad.json") << "{";
  EXPECT_FALSE(readSnapshotFile((dir_ / "bad.json").string()).ok());
}

}  // namespace
}  // namespace meshnode::agent::daemon
