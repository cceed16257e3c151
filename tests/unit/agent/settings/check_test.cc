#include "agent/cli/check.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

namespace meshnode::agent {
namespace {

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/meshnode-check-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::mkdir((dir_ + "/mesh").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir_ + "/registry").c_str(), 0755), 0);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string write(const std::string& body) {
    std::string path = dir_ + "/agent.toml";
    EXPECT_TRUE(writeFileAtomic(path, body).ok());
    return path;
  }

  std::string good() const {
    return "[workload]\ngroup = \"ratings-vm\"\nnamespace = \"bookinfo\"\n"
           "address = \"198.18.0.10\"\n[config]\ndirectory = \"" +
           dir_ + "/mesh\"\n[registry]\ndirectory = \"" + dir_ +
           "/registry\"\n[dns]\nupstreams = [\"198.18.0.53\"]\n"
           "[proxy]\nbinary = \"/bin/true\"\nuser = \"nobody\"\n";
  }

  int run(const std::vector<std::string>& args, std::string* err) {
    std::vector<std::string> words = args;
    std::string name = "check";
    std::vector<char*> argv{name.data()};
    for (auto& a : words)
      argv.push_back(a.data());
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    int rc = runCheck(static_cast<int>(argv.size()), argv.data());
    *err = ::testing::internal::GetCapturedStderr();
    ::testing::internal::GetCapturedStdout();
    return rc;
  }

  std::string dir_;
};

TEST_F(CheckTest, GoodFileExitsZero) {
  ASSERT_TRUE(writeFileAtomic(dir_ + "/mesh/group.yaml",
                              "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\n"
                              "metadata: {name: ratings-vm, namespace: bookinfo}\n"
                              "spec: {template: {labels: {app: ratings}}}\n")
                  .ok());
  std::string path = write(good());
  std::string err;
  EXPECT_EQ(run({"--config", path}, &err), 0) << err;
  // What is said on stderr is a warning at most (this host has no mesh certificate).
  EXPECT_EQ(err.find("problem"), std::string::npos) << err;
}

TEST_F(CheckTest, MeshWithoutTheWorkloadGroupFailsUnlessNotRead) {
  std::string path = write(good());
  std::string err;
  EXPECT_EQ(run({"--config", path}, &err), 78);
  EXPECT_NE(err.find("workload group bookinfo/ratings-vm is not among the loaded resources"),
            std::string::npos)
      << err;
  EXPECT_EQ(run({"--no-mesh", "--config", path}, &err), 0) << err;
}

TEST_F(CheckTest, BadCommandLineIsUsageError) {
  std::string err;
  EXPECT_EQ(run({"--frobnicate"}, &err), 64);
  EXPECT_NE(err.find("--frobnicate"), std::string::npos);
}

TEST_F(CheckTest, ProblemsInFileExitConfigWithFileLineKey) {
  std::string path = write(good() + "concurency = 3\n");
  std::string err;
  EXPECT_EQ(run({"--config", path}, &err), 78);
  EXPECT_NE(err.find(path + ":14:1: proxy.concurency: unknown key; did you mean "
                            "'proxy.concurrency'?"),
            std::string::npos)
      << err;
}

TEST_F(CheckTest, MissingDirectoriesAndUserAreReported) {
  std::string body = good();
  std::system(("rm -rf " + dir_ + "/mesh").c_str());
  body.replace(body.find("nobody"), 6, "no-such-meshnode-user");
  std::string path = write(body);
  std::string err;
  EXPECT_EQ(run({"--config", path}, &err), 78);
  EXPECT_NE(err.find(path + ":6:13: config.directory: " + dir_ + "/mesh: No such file"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("proxy.user: no user \"no-such-meshnode-user\""), std::string::npos) << err;
  EXPECT_EQ(run({"--config", path, "--syntax-only"}, &err), 0) << err;
}

TEST_F(CheckTest, MissingFileIsConfigError) {
  std::string err;
  EXPECT_EQ(run({"--config", dir_ + "/absent.toml"}, &err), 78);
  EXPECT_NE(err.find(dir_ + "/absent.toml"), std::string::npos);
}

}  // namespace
}  // namespace meshnode::agent
