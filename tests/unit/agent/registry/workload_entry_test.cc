#include "agent/registry/workload_entry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace meshnode::agent {
namespace {

WorkloadTemplate ratings() {
  WorkloadTemplate t;
  t.group = "ratings-vm";
  t.name_space = "bookinfo";
  t.group_uid = "5c1f4a8e-0000-4000-8000-000000000001";
  t.labels = {{"app", "ratings"}, {"version", "v1"}};
  t.annotations = {{"team", "storage"}};
  t.service_account = "bookinfo-ratings";
  t.network = "vm-net";
  t.locality = "eu/west/a";
  t.weight = 3;
  t.ports = {{"http", 9080}};
  return t;
}

TEST(WorkloadEntryTest, NameReplacesDotsAndColons) {
  EXPECT_EQ(entryName("ratings-vm", "198.18.0.10"), "ratings-vm-198-18-0-10");
  EXPECT_EQ(entryName("ratings-vm", "2001:db8::1"), "ratings-vm-2001-db8--1");
  EXPECT_EQ(entryName("a.b", "198.18.0.1"), "a.b-198-18-0-1");
}

TEST(WorkloadEntryTest, MadeFromTemplateTheWayIstioRegisters) {
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1790000000)) +
             std::chrono::nanoseconds(5);
  WorkloadEntry e = makeEntry(ratings(), "198.18.0.10", now);
  nlohmann::json j = toJson(e);
  EXPECT_EQ(j["apiVersion"], "networking.istio.io/v1");
  EXPECT_EQ(j["kind"], "WorkloadEntry");
  EXPECT_EQ(j["metadata"]["name"], "ratings-vm-198-18-0-10");
  EXPECT_EQ(j["metadata"]["namespace"], "bookinfo");
  EXPECT_EQ(j["metadata"]["annotations"]["istio.io/autoRegistrationGroup"], "ratings-vm");
  EXPECT_EQ(j["metadata"]["annotations"]["istio.io/connectedAt"], "2026-09-21T14:13:20.000000005Z");
  EXPECT_EQ(j["metadata"]["annotations"]["team"], "storage");
  EXPECT_FALSE(j["metadata"]["annotations"].contains("istio.io/disconnectedAt"));
  const auto& owner = j["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "WorkloadGroup");
  EXPECT_EQ(owner["name"], "ratings-vm");
  EXPECT_EQ(owner["uid"], "5c1f4a8e-0000-4000-8000-000000000001");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(j["spec"]["address"], "198.18.0.10");
  EXPECT_EQ(j["spec"]["labels"]["app"], "ratings");
  EXPECT_EQ(j["spec"]["ports"]["http"], 9080);
  EXPECT_EQ(j["spec"]["serviceAccount"], "bookinfo-ratings");
  EXPECT_EQ(j["spec"]["network"], "vm-net");
  EXPECT_EQ(j["spec"]["locality"], "eu/west/a");
  EXPECT_EQ(j["spec"]["weight"], 3);
  EXPECT_FALSE(j.contains("status"));
}

TEST(WorkloadEntryTest, HealthConditionRoundTrips) {
  WorkloadEntry e = makeEntry(ratings(), "198.18.0.10", std::chrono::system_clock::now());
  e.health = HealthCondition{false, "HTTPGetFailed", "GET /healthz: 503", "t1", "t0"};
  nlohmann::json j = toJson(e);
  const auto& cond = j["status"]["conditions"][0];
  EXPECT_EQ(cond["type"], "Healthy");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "HTTPGetFailed");
  auto back = entryFromJson(j, "x.json");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(*back, e);
}

TEST(WorkloadEntryTest, BadDocumentsNameTheSource) {
  auto not_json = parseEntry("{", "/srv/registry/a.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().detail.find("/srv/registry/a.json"), std::string::npos);
  auto bad_line = parseEntry("{\n  \"kind\": WorkloadEntry\n}", "e.json");
  ASSERT_FALSE(bad_line.ok());
  EXPECT_NE(bad_line.error().detail.find("line 2"), std::string::npos) << bad_line.error().detail;
  auto wrong_kind = parseEntry(
      R"({"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"x"}})",
      "b.json");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_NE(wrong_kind.error().detail.find("kind"), std::string::npos);
  auto no_address = parseEntry(
      R"({"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntry","metadata":{"name":"x"},"spec":{}})",
      "c.json");
  ASSERT_FALSE(no_address.ok());
  EXPECT_NE(no_address.error().detail.find("spec.address"), std::string::npos);
  auto bad_type = parseEntry(
      R"({"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntry","metadata":{"name":7},"spec":{"address":"a"}})",
      "d.json");
  EXPECT_FALSE(bad_type.ok());
}

}  // namespace
}  // namespace meshnode::agent
