#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "agent/daemon/group_probe.h"
#include "agent/daemon/mesh_state.h"
#include "agent/istio/loader.h"

namespace meshnode::agent::daemon {
namespace {

namespace fs = std::filesystem;

class MeshStateSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mn-meshsec-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "certs");
    fs::create_directories(dir_ / "mesh");
    settings_.file = "/etc/meshnode/agent.toml";
    settings_.paths.certs_dir = (dir_ / "certs").string();
    settings_.config.directory = (dir_ / "mesh").string();
    settings_.workload.name_space = "shop";
    settings_.workload.address = "198.18.0.1";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  void writeIdentity() {
    for (const char* name : {"cert-chain.pem", "key.pem", "root-cert.pem"})
      write(dir_ / "certs" / name, "pem");
  }
  fs::path dir_;
  AgentSettings settings_;
};

TEST_F(MeshStateSecurityTest, TheIdentityIsTheThreeFilesOfCertsDir) {
  writeIdentity();
  std::string why_not = "stale";
  auto in = securityInput(settings_, &why_not);
  EXPECT_EQ(why_not, "");
  EXPECT_EQ(in.cert_chain, (dir_ / "certs" / "cert-chain.pem").string());
  EXPECT_EQ(in.key, (dir_ / "certs" / "key.pem").string());
  EXPECT_EQ(in.root_cert, (dir_ / "certs" / "root-cert.pem").string());
}

TEST_F(MeshStateSecurityTest, AMissingFileMeansNoIdentityAndSaysWhich) {
  writeIdentity();
  fs::remove(dir_ / "certs" / "key.pem");
  std::string why_not;
  auto in = securityInput(settings_, &why_not);
  EXPECT_TRUE(in.cert_chain.empty() && in.key.empty() && in.root_cert.empty());
  EXPECT_EQ(why_not,
            "/etc/meshnode/agent.toml: paths.certs_dir: " + (dir_ / "certs" / "key.pem").string() +
                ": No such file or directory; the host has no mesh identity and serves no mTLS");
}

constexpr const char* kStrictMesh = R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
)";

TEST_F(MeshStateSecurityTest, CompileForPutsTheIdentityInTheSnapshot) {
  writeIdentity();
  istio::Resources resources;
  istio::LoadReport report;
  istio::loadYaml(kStrictMesh, "mesh.yaml", &resources, &report);
  auto compiled = compileFor(settings_, resources, {});
  ASSERT_TRUE(compiled.ok()) << compiled.error().detail;
  auto doc = nlohmann::json::parse(compiled->json);
  EXPECT_EQ(doc["security"]["identity"]["key"], (dir_ / "certs" / "key.pem").string());
  EXPECT_EQ(doc["security"]["peer_authentication"]["mode"], "STRICT");
}

TEST_F(MeshStateSecurityTest, CompileForRefusesStrictWithoutIdentity) {
  istio::Resources resources;
  istio::LoadReport report;
  istio::loadYaml(kStrictMesh, "mesh.yaml", &resources, &report);
  auto compiled = compileFor(settings_, resources, {});
  ASSERT_FALSE(compiled.ok());
  EXPECT_NE(compiled.error().detail.find("PeerAuthentication at mesh.yaml:1 asks this host for "
                                         "STRICT mTLS, but the host has no mesh identity"),
            std::string::npos)
      << compiled.error().detail;
}

TEST_F(MeshStateSecurityTest, TheGroupProbeReaderSkipsAFileTooDeepToParse) {
  write(dir_ / "mesh" / "a-deep.yaml", "spec: " + std::string(100000, '['));
  write(dir_ / "mesh" / "b-group.yaml", R"(apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: vm, namespace: shop}
spec:
  template: {}
  probe: {tcpSocket: {port: 8080}}
)");
  auto probe = findGroupProbe(settings_.config.directory, "vm", "shop");
  ASSERT_TRUE(probe.ok()) << probe.error().detail;
  ASSERT_TRUE(probe->has_value());
  EXPECT_EQ(std::get<TcpSocketAction>((*probe)->action).port, 8080);
}

}  // namespace
}  // namespace meshnode::agent::daemon
