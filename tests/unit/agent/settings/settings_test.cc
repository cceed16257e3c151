#include "agent/settings/settings.h"

#include <gtest/gtest.h>

#include "agent/settings/did_you_mean.h"

namespace meshnode::agent {
namespace {

HostFacts host() {
  HostFacts h;
  h.resolv_conf = "# generated\nnameserver 198.18.0.53\nnameserver ::1\nsearch example.test\n";
  h.default_address = "198.18.0.10";
  return h;
}

constexpr const char* kMinimal = R"(
[workload]
group = "ratings-vm"
namespace = "bookinfo"
)";

bool hasProblem(const SettingsLoad& load, const std::string& key, uint32_t line,
                const std::string& fragment) {
  for (const auto& p : load.problems) {
    if (p.key == key && p.position.line == line && p.message.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string all(const SettingsLoad& load) {
  std::string out;
  for (const auto& p : load.problems)
    out += p.describe() + "\n";
  return out;
}

TEST(SettingsTest, MinimalFileTakesDefaultsFromHost) {
  SettingsLoad load = parseSettings(kMinimal, "agent.toml", host());
  ASSERT_TRUE(load.settings) << all(load);
  const AgentSettings& s = *load.settings;
  EXPECT_EQ(s.workload.group, "ratings-vm");
  EXPECT_EQ(s.workload.name_space, "bookinfo");
  EXPECT_EQ(s.workload.address, "198.18.0.10");
  EXPECT_TRUE(s.workload.address_detected);
  EXPECT_EQ(s.dns.listen_address, "127.0.0.1");
  EXPECT_EQ(s.dns.listen_port, 15053);
  EXPECT_EQ(s.dns.upstreams, (std::vector<std::string>{"198.18.0.53", "::1"}));
  EXPECT_EQ(s.dns.search_domains, (std::vector<std::string>{"bookinfo.svc.cluster.local",
                                                            "svc.cluster.local", "cluster.local"}));
  EXPECT_EQ(s.registry.type, RegistrySettings::Type::kFile);
  EXPECT_EQ(s.proxy.user, "meshnode");
  EXPECT_EQ(s.trust_domain, "cluster.local");
}

TEST(SettingsTest, FullFileIsRead) {
  constexpr const char* kFull = R"(
[workload]
group = "ratings-vm"
namespace = "bookinfo"
address = "2001:db8::10"

[mesh]
trust_domain = "example.org"

[config]
source = "directory"
directory = "/srv/mesh"

[registry]
type = "kubernetes"
api_server = "https://198.18.0.1:6443"
token_file = "/etc/meshnode/token"
ca_file = "/etc/meshnode/ca.crt"

[capture]
inbound-ports = "*"
exclude-inbound-ports = [22, 15020]
ipv6 = true

[dns]
upstreams = ["198.18.0.53:5353", "[::1]:53"]
search_domains = ["corp.test."]
ttl_floor = 1
ttl_ceiling = 60

[proxy]
concurrency = 4
admin_port = 15100
)";
  SettingsLoad load = parseSettings(kFull, "agent.toml", host());
  ASSERT_TRUE(load.settings) << all(load);
  const AgentSettings& s = *load.settings;
  EXPECT_EQ(s.workload.address, "2001:db8::10");
  EXPECT_FALSE(s.workload.address_detected);
  EXPECT_EQ(s.trust_domain, "example.org");
  EXPECT_EQ(s.config.directory, "/srv/mesh");
  EXPECT_EQ(s.registry.type, RegistrySettings::Type::kKubernetes);
  EXPECT_EQ(s.registry.api_server, "https://198.18.0.1:6443");
  EXPECT_EQ(s.capture.at("inbound-ports"), "*");
  EXPECT_EQ(s.capture.at("exclude-inbound-ports"), "22,15020");
  EXPECT_EQ(s.capture.at("ipv6"), "true");
  EXPECT_EQ(s.dns.upstreams, (std::vector<std::string>{"198.18.0.53:5353", "[::1]:53"}));
  EXPECT_EQ(s.dns.search_domains, (std::vector<std::string>{"corp.test"}));
  EXPECT_EQ(s.dns.ttl_ceiling, 60u);
  EXPECT_EQ(s.proxy.concurrency, 4u);
  EXPECT_EQ(s.proxy.admin_port, 15100);
  EXPECT_EQ(s.positionOf("proxy.admin_port").line, 33u);
}

TEST(SettingsTest, EveryProblemIsReportedWithLineAndKey) {
  constexpr const char* kBad = R"([workload]
group = "Ratings_VM"
namespace = "bookinfo"
adress = "198.18.0.9"

[dns]
listen_port = 70000
ttl_floor = 600
ttl_ceiling = 60
upstreams = ["not-an-address"]

[registry]
type = "etcd"

[proxy]
user = "root"
concurency = 2
)";
  SettingsLoad load = parseSettings(kBad, "/etc/meshnode/agent.toml", host());
  EXPECT_FALSE(load.settings);
  std::string text = all(load);
  EXPECT_TRUE(hasProblem(load, "workload.group", 2, "lowercase DNS name")) << text;
  EXPECT_TRUE(hasProblem(load, "workload.adress", 4, "did you mean 'workload.address'")) << text;
  EXPECT_TRUE(hasProblem(load, "dns.listen_port", 7, "between 1 and 65535")) << text;
  EXPECT_TRUE(hasProblem(load, "dns.ttl_floor", 8, "at most dns.ttl_ceiling")) << text;
  EXPECT_TRUE(hasProblem(load, "dns.upstreams[0]", 10, "not-an-address")) << text;
  EXPECT_TRUE(hasProblem(load, "registry.type", 13, "\"etcd\"")) << text;
  EXPECT_TRUE(hasProblem(load, "proxy.user", 16, "must not be root")) << text;
  EXPECT_TRUE(hasProblem(load, "proxy.concurency", 17, "did you mean 'proxy.concurrency'")) << text;
  EXPECT_EQ(load.problems.size(), 8u) << text;
  EXPECT_NE(text.find("/etc/meshnode/agent.toml:17:1: proxy.concurency: unknown key"),
            std::string::npos)
      << text;
}

TEST(SettingsTest, WrongTypesAndUnknownTables) {
  constexpr const char* kBad = R"([workload]
group = 7
namespace = "bookinfo"
[dns]
enabled = "yes"
search_domains = "cluster.local"
[path]
binary = "/usr/bin/meshnode-proxy"
)";
  SettingsLoad load = parseSettings(kBad, "agent.toml", host());
  std::string text = all(load);
  EXPECT_TRUE(hasProblem(load, "workload.group", 2, "must be a string")) << text;
  EXPECT_TRUE(hasProblem(load, "dns.enabled", 5, "true or false")) << text;
  EXPECT_TRUE(hasProblem(load, "dns.search_domains", 6, "array of strings")) << text;
  EXPECT_TRUE(hasProblem(load, "path", 7, "did you mean 'paths'")) << text;
}

TEST(SettingsTest, MissingRequiredKeysAndUndetectableAddress) {
  HostFacts h = host();
  h.default_address.reset();
  SettingsLoad load = parseSettings("[workload]\n", "agent.toml", h);
  std::string text = all(load);
  EXPECT_TRUE(hasProblem(load, "workload.group", 1, "is required")) << text;
  EXPECT_TRUE(hasProblem(load, "workload.namespace", 1, "is required")) << text;
  EXPECT_TRUE(hasProblem(load, "workload.address", 1, "set it")) << text;
}

TEST(SettingsTest, KubernetesRegistryNeedsHttpsServer) {
  std::string text = std::string(kMinimal) + "[registry]\ntype = \"kubernetes\"\n";
  SettingsLoad load = parseSettings(text, "agent.toml", host());
  EXPECT_TRUE(hasProblem(load, "registry.api_server", 5, "is required")) << all(load);
}

TEST(SettingsTest, SyntaxErrorHasPosition) {
  SettingsLoad load = parseSettings("[workload]\ngroup = \"a\nnamespace = 1\n", "a.toml", host());
  ASSERT_EQ(load.problems.size(), 1u);
  EXPECT_EQ(load.problems[0].position.line, 2u);
  EXPECT_NE(load.problems[0].message.find("syntax"), std::string::npos);
}

TEST(SettingsTest, NoUpstreamWhenResolvConfIsEmpty) {
  HostFacts h = host();
  h.resolv_conf = "search example.test\n";
  SettingsLoad load = parseSettings(kMinimal, "agent.toml", h);
  EXPECT_TRUE(hasProblem(load, "dns.upstreams", 0, "set dns.upstreams")) << all(load);
}

TEST(DidYouMeanTest, SuggestsCloseKeysOnly) {
  std::vector<std::string> keys = {"listen_address", "listen_port", "ttl_floor"};
  EXPECT_EQ(closestMatch("listen-port", keys), "listen_port");
  EXPECT_EQ(closestMatch("ttl_flor", keys), "ttl_floor");
  EXPECT_EQ(closestMatch("zone", keys), "");
}

// The annotated example installed with the package is itself valid.
TEST(SettingsTest, PackagedExampleIsValid) {
  SettingsLoad load =
      loadSettings(std::string(MESHNODE_SOURCE_DIR) + "/packaging/agent.toml.example", host());
  ASSERT_TRUE(load.settings) << all(load);
  EXPECT_EQ(load.settings->workload.group, "ratings-vm");
  EXPECT_EQ(load.settings->dns.listen_port, 15053);
}

}  // namespace
}  // namespace meshnode::agent
