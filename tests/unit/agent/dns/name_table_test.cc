#include "agent/dns/name_table.h"

#include <set>

#include <gtest/gtest.h>

namespace meshnode::agent::dns {
namespace {

NameTable build(std::vector<MeshHost> hosts) {
  auto t = NameTable::build(std::move(hosts),
                            {"bookinfo.svc.cluster.local", "svc.cluster.local", "cluster.local"},
                            {"cluster.local"});
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

TEST(NameTableTest, DeclaredAddressesAreAnswered) {
  NameTable t = build({{"db.corp.test", {"198.18.0.7", "2001:db8::7", "198.18.1.0/24"}}});
  auto found = t.lookup("DB.corp.test.");
  ASSERT_EQ(found.match, NameTable::Match::kFound);
  ASSERT_EQ(found.addresses->v4.size(), 1u);
  EXPECT_EQ(found.addresses->v4[0], (std::array<uint8_t, 4>{198, 18, 0, 7}));
  EXPECT_EQ(found.addresses->v6.size(), 1u);
  EXPECT_FALSE(found.addresses->allocated);
}

TEST(NameTableTest, AllocatedAddressesAreStableAndInRange) {
  NameTable one = build({{"reviews.bookinfo.svc.cluster.local", {}}, {"a.test", {}}});
  NameTable two = build({{"z.test", {}}, {"reviews.bookinfo.svc.cluster.local", {}}});
  auto a = one.lookup("reviews.bookinfo.svc.cluster.local");
  auto b = two.lookup("reviews.bookinfo.svc.cluster.local");
  ASSERT_EQ(a.match, NameTable::Match::kFound);
  EXPECT_TRUE(a.addresses->allocated);
  EXPECT_EQ(a.addresses->v4, b.addresses->v4);
  EXPECT_EQ(a.addresses->v6, b.addresses->v6);
  EXPECT_EQ(a.addresses->v4[0][0], 240);
  EXPECT_EQ(a.addresses->v4[0][1], 240);
  auto v6 = a.addresses->v6[0];
  EXPECT_EQ((std::vector<uint8_t>(v6.begin(), v6.begin() + 6)),
            (std::vector<uint8_t>{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}));
}

TEST(NameTableTest, ManyHostsGetDistinctAddresses) {
  std::vector<MeshHost> hosts;
  for (int i = 0; i < 2000; ++i)
    hosts.push_back({"h" + std::to_string(i) + ".test", {}});
  NameTable t = build(hosts);
  std::set<std::array<uint8_t, 4>> seen;
  for (const auto& [name, a] : t.hosts()) {
    EXPECT_TRUE(seen.insert(a.v4[0]).second) << name;
    EXPECT_FALSE(a.v4[0][2] == 0 && a.v4[0][3] == 0) << name;
  }
}

TEST(NameTableTest, ShortNamesExpandWithSearchDomains) {
  NameTable t = build({{"reviews.bookinfo.svc.cluster.local", {"198.18.0.9"}}});
  EXPECT_EQ(t.lookup("reviews").match, NameTable::Match::kFound);
  EXPECT_EQ(t.lookup("reviews.bookinfo").match, NameTable::Match::kFound);
  EXPECT_EQ(t.lookup("reviews.bookinfo.svc").match, NameTable::Match::kFound);
  EXPECT_EQ(t.lookup("reviews.other").match, NameTable::Match::kNotMesh);
}

TEST(NameTableTest, UnknownNamesInMeshZoneAreNxDomainOthersForwarded) {
  NameTable t = build({{"reviews.bookinfo.svc.cluster.local", {}}});
  EXPECT_EQ(t.lookup("ghost.bookinfo.svc.cluster.local").match, NameTable::Match::kNxDomain);
  EXPECT_EQ(t.lookup("example.test").match, NameTable::Match::kNotMesh);
  EXPECT_EQ(t.lookup("notcluster.local").match, NameTable::Match::kNotMesh);
}

TEST(NameTableTest, WildcardHostsMatchSubdomainsAndAreNotAllocated) {
  NameTable t = build({{"*.corp.test", {"198.18.0.20"}}, {"*.noaddr.test", {}}});
  auto found = t.lookup("a.b.corp.test");
  ASSERT_EQ(found.match, NameTable::Match::kFound);
  EXPECT_EQ(found.addresses->v4[0], (std::array<uint8_t, 4>{198, 18, 0, 20}));
  EXPECT_EQ(t.lookup("corp.test").match, NameTable::Match::kNotMesh);
  auto noaddr = t.lookup("x.noaddr.test");
  ASSERT_EQ(noaddr.match, NameTable::Match::kFound);
  EXPECT_TRUE(noaddr.addresses->v4.empty());
}

TEST(NameTableTest, BadHostIsAnError) {
  auto t = NameTable::build({{"", {}}}, {}, {});
  EXPECT_FALSE(t.ok());
}

}  // namespace
}  // namespace meshnode::agent::dns
