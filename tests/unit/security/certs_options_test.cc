#include "security/certs_options.h"

#include <gtest/gtest.h>

namespace meshnode::security {
namespace {

// parseCertsOptions only reads argv, as main's argv is read.
Result<CertsOptions> parse(std::initializer_list<const char*> args) {
  std::vector<char*> argv = {const_cast<char*>("meshnode-certs")};
  for (const char* a : args)
    argv.push_back(const_cast<char*>(a));
  return parseCertsOptions(static_cast<int>(argv.size()), argv.data());
}

std::string errorOf(const Result<CertsOptions>& r) {
  return r.ok() ? "(parsed)" : r.error().detail;
}

TEST(CertsOptions, Workload) {
  auto o = parse({"workload", "--root", "ca", "--ns", "foo", "--sa", "sleep", "--out", "w",
                  "--hours", "3", "--extra-uri-san", "spiffe://a/ns/b/sa/c", "--no-uri-san"});
  ASSERT_TRUE(o.ok()) << errorOf(o);
  EXPECT_EQ(o->command, CertsCommand::kWorkload);
  EXPECT_EQ(o->lifetime, std::chrono::hours(3));
  ASSERT_EQ(o->extra_uri_sans.size(), 1u);
  EXPECT_EQ(o->extra_uri_sans[0], "spiffe://a/ns/b/sa/c");
  EXPECT_TRUE(o->no_uri_san);
}

TEST(CertsOptions, RootWithDays) {
  auto o = parse({"root", "--out", "ca", "--trust-domain", "example.org", "--days", "30"});
  ASSERT_TRUE(o.ok()) << errorOf(o);
  EXPECT_EQ(o->lifetime, std::chrono::hours(30 * 24));
  EXPECT_EQ(o->trust_domain, "example.org");
}

TEST(CertsOptions, RefusesBadCommandLines) {
  EXPECT_NE(errorOf(parse({"sign"})).find("unknown command 'sign'"), std::string::npos);
  EXPECT_NE(errorOf(parse({"root"})).find("--out DIR is required"), std::string::npos);
  EXPECT_NE(errorOf(parse({"workload", "--root", "ca", "--out", "w"})).find("--ns, --sa"),
            std::string::npos);
  EXPECT_NE(errorOf(parse({"root", "--out", "ca", "--days", "-1"})).find("--days '-1'"),
            std::string::npos);
  EXPECT_NE(errorOf(parse({"root", "--out", "ca", "--days", "1", "--hours", "2"}))
                .find("one of --days and --hours"),
            std::string::npos);
  EXPECT_NE(errorOf(parse({"root", "--out", "ca", "--expired"})).find("workload command only"),
            std::string::npos);
  EXPECT_NE(errorOf(parse({"root", "--out"})).find("--out needs a value"), std::string::npos);
  EXPECT_NE(errorOf(parse({"root", "--out", "ca", "--bogus"})).find("unknown flag '--bogus'"),
            std::string::npos);
  EXPECT_NE(errorOf(parse({"workload", "--root", "ca", "--ns", "a", "--sa", "b", "--out", "w",
                           "--expired", "--not-yet-valid"}))
                .find("one of --expired and --not-yet-valid"),
            std::string::npos);
}

}  // namespace
}  // namespace meshnode::security
