#include "agent/cli/compile_options.h"

#include <gtest/gtest.h>

namespace meshnode::agent::cli {
namespace {

Result<CompileOptions> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "compile");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return parseCompileOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(CompileOptionsTest, ReadsEveryOption) {
  auto o = parse({"--config-dir", "/etc/mesh", "--node-ns", "shop", "--node-labels",
                  "app=web,version=v2", "--node-ip", "198.18.0.10", "--workload-group", "web",
                  "--resolve", "a.example.com=198.18.1.1,198.18.1.2", "--resolve",
                  "b.example.com=2001:db8::1", "--registry-only", "--domain-suffix", "mesh.local",
                  "--root-namespace", "mesh-root"});
  ASSERT_TRUE(o.ok()) << o.error().describe();
  EXPECT_EQ(o->config_dir, "/etc/mesh");
  EXPECT_EQ(o->node.ns, "shop");
  EXPECT_EQ(o->node.labels, (istio::Labels{{"app", "web"}, {"version", "v2"}}));
  EXPECT_EQ(o->node.ip, "198.18.0.10");
  EXPECT_EQ(o->node.workload_group, "web");
  EXPECT_EQ(o->resolved.at("a.example.com"),
            (std::vector<std::string>{"198.18.1.1", "198.18.1.2"}));
  EXPECT_EQ(o->resolved.at("b.example.com"), std::vector<std::string>{"2001:db8::1"});
  EXPECT_TRUE(o->mesh.registry_only);
  EXPECT_EQ(o->mesh.domain_suffix, "mesh.local");
  EXPECT_EQ(o->mesh.root_namespace, "mesh-root");
}

struct BadCase {
  const char* args;  // separated by spaces
  const char* expected;
};

class CompileOptionsBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(CompileOptionsBadTest, NamesTheOption) {
  std::vector<std::string> args;
  std::string all = GetParam().args;
  for (size_t start = 0, end; start < all.size(); start = end + 1) {
    end = all.find(' ', start);
    if (end == std::string::npos) end = all.size();
    args.push_back(all.substr(start, end - start));
  }
  auto o = parse(args);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().detail, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CompileOptionsBadTest,
    ::testing::Values(
        BadCase{"--node-ns a --node-ip 198.18.0.1", "compile: --config-dir is required"},
        BadCase{"--config-dir d --node-ip 198.18.0.1", "compile: --node-ns is required"},
        BadCase{"--config-dir d --node-ns a", "compile: --node-ip is required"},
        BadCase{"--config-dir", "compile: --config-dir needs a value"},
        BadCase{"--colour blue", "compile: unknown option --colour"},
        BadCase{"--node-labels app", "compile: --node-labels: \"app\" is not key=value"},
        BadCase{"--resolve a.example.com",
                "compile: --resolve: \"a.example.com\" is not HOST=IP[,IP...]"}));

}  // namespace
}  // namespace meshnode::agent::cli
