#include <gtest/gtest.h>

#include "agent/settings/settings.h"

namespace meshnode::agent {
namespace {

HostFacts host() {
  HostFacts h;
  h.resolv_conf = "nameserver 198.18.0.53\n";
  h.default_address = "198.18.0.10";
  return h;
}

std::string withConfig(const std::string& config, const std::string& registry = "") {
  return "[workload]\ngroup = \"ratings-vm\"\nnamespace = \"bookinfo\"\n" + config + registry;
}

std::string problems(const SettingsLoad& load) {
  std::string out;
  for (const auto& p : load.problems)
    out += p.describe() + "\n";
  return out;
}

TEST(ConfigSourceSettingsTest, KubernetesSourceWithItsOwnKeys) {
  auto load = parseSettings(withConfig("[config]\nsource = \"kubernetes\"\n"
                                       "api_server = \"https://198.18.0.5:6443\"\n"
                                       "token_file = \"/etc/meshnode/token\"\n"
                                       "ca_file = \"/etc/meshnode/ca.crt\"\n"
                                       "domain_suffix = \"corp.example\"\n"),
                            "agent.toml", host());
  ASSERT_TRUE(load.settings) << problems(load);
  const ConfigSourceSettings& c = load.settings->config;
  EXPECT_TRUE(c.kubernetes());
  EXPECT_EQ(c.api_server, "https://198.18.0.5:6443");
  EXPECT_EQ(c.token_file, "/etc/meshnode/token");
  EXPECT_EQ(c.ca_file, "/etc/meshnode/ca.crt");
  EXPECT_EQ(c.domain_suffix, "corp.example");
}

TEST(ConfigSourceSettingsTest, UnsetKeysComeFromTheRegistry) {
  auto load = parseSettings(withConfig("[config]\nsource = \"kubernetes\"\n",
                                       "[registry]\ntype = \"kubernetes\"\n"
                                       "api_server = \"https://198.18.0.5:6443\"\n"
                                       "ca_file = \"/etc/kube/ca.crt\"\n"),
                            "agent.toml", host());
  ASSERT_TRUE(load.settings) << problems(load);
  const ConfigSourceSettings& c = load.settings->config;
  EXPECT_EQ(c.api_server, "https://198.18.0.5:6443");
  EXPECT_EQ(c.ca_file, "/etc/kube/ca.crt");
  EXPECT_EQ(c.token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(c.domain_suffix, "cluster.local");
}

TEST(ConfigSourceSettingsTest, KubernetesWithoutAnApiServerNamesTheKeyAndLine) {
  auto load =
      parseSettings(withConfig("[config]\nsource = \"kubernetes\"\n"), "agent.toml", host());
  ASSERT_FALSE(load.settings);
  EXPECT_NE(problems(load).find("agent.toml:5:10: config.api_server: is required when "
                                "config.source is \"kubernetes\""),
            std::string::npos)
      << problems(load);
}

TEST(ConfigSourceSettingsTest, BadValuesAreEachNamed) {
  auto load = parseSettings(withConfig("[config]\nsource = \"kubernetes\"\n"
                                       "api_server = \"http://198.18.0.5\"\n"
                                       "token_file = \"token\"\n"
                                       "domain_suffix = \"Not A Domain\"\n"),
                            "agent.toml", host());
  ASSERT_FALSE(load.settings);
  std::string text = problems(load);
  EXPECT_NE(text.find("agent.toml:6:14: config.api_server: must be an https:// URL"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("agent.toml:7:14: config.token_file: must be an absolute path"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("agent.toml:8:17: config.domain_suffix: must be a lowercase DNS name"),
            std::string::npos)
      << text;
}

TEST(ConfigSourceSettingsTest, AnInheritedBadValueNamesTheRegistryKey) {
  auto load = parseSettings(withConfig("[config]\nsource = \"kubernetes\"\n",
                                       "[registry]\ntype = \"kubernetes\"\n"
                                       "api_server = \"https://198.18.0.5\"\n"
                                       "token_file = \"relative/token\"\n"),
                            "agent.toml", host());
  ASSERT_FALSE(load.settings);
  EXPECT_NE(problems(load).find("agent.toml:9:14: registry.token_file: must be an absolute path"),
            std::string::npos)
      << problems(load);
}

TEST(ConfigSourceSettingsTest, UnknownSourceAndKeyAreRefused) {
  auto load = parseSettings(withConfig("[config]\nsource = \"etcd\"\napi_sever = \"x\"\n"),
                            "agent.toml", host());
  ASSERT_FALSE(load.settings);
  std::string text = problems(load);
  EXPECT_NE(text.find("config.source: must be \"directory\" or \"kubernetes\", not \"etcd\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("config.api_sever: unknown key; did you mean 'config.api_server'?"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace meshnode::agent
