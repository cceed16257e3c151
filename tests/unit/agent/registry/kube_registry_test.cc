#include "agent/registry/kube_registry.h"

#include <gtest/gtest.h>

namespace meshnode::agent {
namespace {

TEST(KubeRegistryTest, ApiServerMustBeHttps) {
  KubeRegistryOptions options;
  options.api_server = "http://198.18.0.1:6443";
  auto r = KubeRegistry::create(options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("https://"), std::string::npos);
}

TEST(KubeClientTest, HostAndPortFromUrl) {
  auto a = KubeClient::create("https://198.18.0.1:6443/", "t", "c");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host(), "198.18.0.1");
  auto b = KubeClient::create("https://[2001:db8::1]:6443", "t", "c");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host(), "2001:db8::1");
  auto c = KubeClient::create("https://kubernetes.default.svc", "t", "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host(), "kubernetes.default.svc");
  EXPECT_FALSE(KubeClient::create("https://[2001:db8::1", "t", "c").ok());
  EXPECT_FALSE(KubeClient::create("https://198.18.0.1:0", "t", "c").ok());
  EXPECT_FALSE(KubeClient::create("https://198.18.0.1:http", "t", "c").ok());
}

TEST(KubeRegistryTest, ResourcePaths) {
  EXPECT_EQ(workloadEntriesPath("bookinfo"),
            "/apis/networking.istio.io/v1/namespaces/bookinfo/workloadentries");
  EXPECT_EQ(workloadEntriesPath("bookinfo", "ratings-vm-198-18-0-10"),
            "/apis/networking.istio.io/v1/namespaces/bookinfo/workloadentries/"
            "ratings-vm-198-18-0-10");
}

TEST(KubeRegistryTest, UnreachableServerIsARetryableError) {
  KubeRegistryOptions options;
  options.api_server = "https://127.0.0.1:1";
  options.token_file = "/dev/null";
  options.ca_file = "/dev/null";
  auto registry = KubeRegistry::create(options);
  ASSERT_TRUE(registry.ok());
  auto listed = (*registry)->list();
  ASSERT_FALSE(listed.ok());
  EXPECT_TRUE(listed.error().retryable);
  EXPECT_NE(listed.error().detail.find("127.0.0.1:1"), std::string::npos) << listed.error().detail;
}

}  // namespace
}  // namespace meshnode::agent
