#include "security/identity_reloader.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/unit/security/test_pki.h"

namespace meshnode::security {
namespace {

using namespace testing;

class IdentityReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("meshnode-reload-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const IssuedCert& issued) { ASSERT_TRUE(writeWorkload(dir_, issued, root_).ok()); }

  std::string dir_;
  RootCa root_ = makeRoot();
};

TEST_F(IdentityReloaderTest, PicksUpARotationAndKeepsTheOldOnABadOne) {
  write(issue(root_, forId("foo", "sleep")));
  IdentityReloader reloader(IdentityFiles::inDirectory(dir_), {}, {});
  auto first = reloader.poll(now());
  ASSERT_TRUE(first.reloaded) << (first.error ? first.error->describe() : "");
  ASSERT_TRUE(first.current);
  EXPECT_EQ(first.current->identity->id().sa, "sleep");

  auto unchanged = reloader.poll(now());
  EXPECT_FALSE(unchanged.reloaded);
  EXPECT_EQ(unchanged.current, first.current);

  write(issue(root_, forId("foo", "sleep-v2")));
  auto rotated = reloader.poll(now());
  EXPECT_TRUE(rotated.reloaded);
  EXPECT_EQ(rotated.current->identity->id().sa, "sleep-v2");
  EXPECT_NE(rotated.current, first.current);
  // The old contexts live on for whoever still holds them.
  EXPECT_NE(first.current->server.get(), nullptr);

  // A half-done rotation: a new chain over the old key.
  IssuedCert next = issue(root_, forId("foo", "sleep-v3"));
  ASSERT_TRUE(
      writeFileAtomic(dir_ + "/cert-chain.pem", ossl::certificateToPem(next.cert.get()).value())
          .ok());
  auto torn = reloader.poll(now());
  ASSERT_TRUE(torn.error.has_value());
  EXPECT_NE(torn.error->detail.find("private key does not match"), std::string::npos);
  EXPECT_EQ(torn.current, rotated.current);

  auto expired = forId("foo", "sleep-v4");
  expired.shift = -std::chrono::hours(3);
  write(issue(root_, expired));
  auto refused = reloader.poll(now());
  ASSERT_TRUE(refused.error.has_value());
  EXPECT_NE(refused.error->detail.find("expired"), std::string::npos);
  EXPECT_EQ(refused.current->identity->id().sa, "sleep-v2");
  auto left = reloader.secondsUntilExpiry(now());
  ASSERT_TRUE(left.has_value());
  EXPECT_GT(*left, 3000);
}

TEST_F(IdentityReloaderTest, ReportsMissingFilesUntilTheyAppear) {
  IdentityReloader reloader(IdentityFiles::inDirectory(dir_), {}, {});
  auto missing = reloader.poll(now());
  ASSERT_TRUE(missing.error.has_value());
  EXPECT_EQ(missing.current, nullptr);
  EXPECT_FALSE(reloader.secondsUntilExpiry(now()).has_value());
  write(issue(root_, forId("foo", "sleep")));
  EXPECT_TRUE(reloader.poll(now()).reloaded);
}

}  // namespace
}  // namespace meshnode::security
