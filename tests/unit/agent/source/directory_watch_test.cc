#include "agent/source/directory_watch.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

namespace meshnode::agent::source {
namespace {

using namespace std::chrono_literals;
using Clock = DirectoryWatch::Clock;
namespace fs = std::filesystem;

class DirectoryWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mn-watch-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(dir());
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path dir() const { return root_ / "mesh"; }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  // How many debounced changes the watch reports within `span`, polling as the daemon does.
  int changesWithin(DirectoryWatch& w, std::chrono::milliseconds span) {
    int n = 0;
    auto end = Clock::now() + span;
    while (Clock::now() < end) {
      pollfd p{w.fd(), POLLIN, 0};
      ::poll(&p, 1, 10);
      if (p.revents) w.onReadable(Clock::now());
      if (w.due(Clock::now())) ++n;
    }
    return n;
  }

  fs::path root_;
};

TEST_F(DirectoryWatchTest, ABurstOfWritesIsOneChange) {
  auto w = DirectoryWatch::create(dir().string(), 50ms, 250ms);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  EXPECT_EQ(changesWithin(*w, 100ms), 0);
  write(dir() / "a.yaml", "a");
  write(dir() / "a.yaml.tmp", "b");
  fs::rename(dir() / "a.yaml.tmp", dir() / "a.yaml");
  EXPECT_EQ(changesWithin(*w, 400ms), 1);
}

TEST_F(DirectoryWatchTest, FilesInNewSubdirectoriesAreWatched) {
  auto w = DirectoryWatch::create(dir().string(), 30ms, 200ms);
  ASSERT_TRUE(w.ok());
  fs::create_directory(dir() / "sub");
  EXPECT_EQ(changesWithin(*w, 200ms), 1);
  write(dir() / "sub" / "b.yaml", "b");
  EXPECT_EQ(changesWithin(*w, 200ms), 1);
}

TEST_F(DirectoryWatchTest, ARemovedAndRecreatedDirectoryIsSeenBothTimesAndWatchedAgain) {
  auto w = DirectoryWatch::create(dir().string(), 30ms, 200ms);
  ASSERT_TRUE(w.ok());
  write(dir() / "a.yaml", "a");
  EXPECT_EQ(changesWithin(*w, 200ms), 1);
  fs::remove_all(dir());
  EXPECT_EQ(changesWithin(*w, 200ms), 1);
  fs::create_directory(dir());
  EXPECT_EQ(changesWithin(*w, 200ms), 1);
  write(dir() / "c.yaml", "c");
  EXPECT_EQ(changesWithin(*w, 200ms), 1);
}

TEST_F(DirectoryWatchTest, AMissingParentIsAnErrorNamingTheKey) {
  auto w = DirectoryWatch::create((root_ / "no" / "such" / "mesh").string(), 30ms, 200ms);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().detail.find("config.directory"), std::string::npos) << w.error().detail;
}

}  // namespace
}  // namespace meshnode::agent::source
