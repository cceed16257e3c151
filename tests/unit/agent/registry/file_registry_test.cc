#include "agent/registry/file_registry.h"

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

namespace meshnode::agent {
namespace {

using namespace std::chrono_literals;

HealthCondition cond(bool healthy, std::string reason = "", std::string message = "") {
  HealthCondition c;
  c.healthy = healthy;
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

WorkloadEntry entryFor(const std::string& address) {
  WorkloadTemplate t;
  t.group = "ratings-vm";
  t.name_space = "bookinfo";
  t.labels = {{"app", "ratings"}};
  return makeEntry(t, address, std::chrono::system_clock::now());
}

// Collects watch events and lets the test wait for a condition on them.
class Events {
 public:
  void add(const RegistryEvent& e) {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
    cv_.notify_all();
  }
  bool waitFor(const std::function<bool(const std::vector<RegistryEvent>&)>& pred) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 10s, [&] { return pred(events_); });
  }
  static std::function<bool(const std::vector<RegistryEvent>&)> has(RegistryEvent::Kind kind,
                                                                    const std::string& name,
                                                                    int healthy = -1) {
    return [=](const std::vector<RegistryEvent>& events) {
      for (const auto& e : events) {
        if (e.kind != kind || e.entry.name != name) continue;
        if (healthy < 0) return true;
        if (e.entry.health && e.entry.health->healthy == (healthy == 1)) return true;
      }
      return false;
    };
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<RegistryEvent> events_;
};

class FileRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/meshnode-registry-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  FileRegistryOptions options(std::chrono::milliseconds grace = 10s) {
    return FileRegistryOptions{dir_, grace};
  }

  std::string dir_;
};

TEST_F(FileRegistryTest, EntryIsWrittenUnderItsName) {
  FileRegistry registry(options());
  WorkloadEntry e = entryFor("198.18.0.10");
  ASSERT_TRUE(registry.registerEntry(e).ok());
  auto text = readFile(dir_ + "/bookinfo.ratings-vm-198-18-0-10.json");
  ASSERT_TRUE(text.ok());
  auto back = parseEntry(*text, "file");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, e);
}

TEST_F(FileRegistryTest, TwoAgentsSeeEachOthersEntriesComeHealthChangeAndGo) {
  FileRegistry a(options(0ms));
  FileRegistry b(options(0ms));
  Events seen_by_a;
  auto watch = a.watch([&](const RegistryEvent& e) { seen_by_a.add(e); });
  ASSERT_TRUE(watch.ok());

  WorkloadEntry mine = entryFor("198.18.0.10");
  WorkloadEntry theirs = entryFor("198.18.0.11");
  ASSERT_TRUE(a.registerEntry(mine).ok());
  ASSERT_TRUE(b.registerEntry(theirs).ok());
  EXPECT_TRUE(seen_by_a.waitFor(Events::has(RegistryEvent::Kind::kAdded, mine.name)));
  EXPECT_TRUE(seen_by_a.waitFor(Events::has(RegistryEvent::Kind::kAdded, theirs.name)));

  ASSERT_TRUE(b.updateHealth("bookinfo", theirs.name, cond(false, "Probe", "503")).ok());
  EXPECT_TRUE(seen_by_a.waitFor(Events::has(RegistryEvent::Kind::kUpdated, theirs.name, 0)));

  ASSERT_TRUE(b.disconnect("bookinfo", theirs.name, std::chrono::system_clock::now()).ok());
  EXPECT_TRUE(seen_by_a.waitFor(Events::has(RegistryEvent::Kind::kRemoved, theirs.name)));
  auto left = a.list();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].name, mine.name);
}

TEST_F(FileRegistryTest, DisconnectedEntryStaysForTheGracePeriod) {
  FileRegistry registry(options(1h));
  WorkloadEntry e = entryFor("198.18.0.10");
  ASSERT_TRUE(registry.registerEntry(e).ok());
  ASSERT_TRUE(registry.disconnect("bookinfo", e.name, std::chrono::system_clock::now()).ok());
  auto entries = registry.list();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_TRUE((*entries)[0].disconnected());
  // Registering again reconnects it.
  ASSERT_TRUE(registry.registerEntry(e).ok());
  EXPECT_FALSE(registry.list()->at(0).disconnected());
}

TEST_F(FileRegistryTest, MalformedFilesAreSkipped) {
  FileRegistry registry(options());
  ASSERT_TRUE(writeFileAtomic(dir_ + "/bookinfo.junk.json", "{not json").ok());
  ASSERT_TRUE(writeFileAtomic(dir_ + "/notes.txt", "ignored").ok());
  ASSERT_TRUE(registry.registerEntry(entryFor("198.18.0.10")).ok());
  auto entries = registry.list();
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 1u);
}

TEST_F(FileRegistryTest, UpdatesNeedARegisteredEntry) {
  FileRegistry registry(options());
  Status s = registry.updateHealth("bookinfo", "nobody", cond(true));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
}

TEST_F(FileRegistryTest, WatchSurvivesTheDirectoryComingBack) {
  FileRegistry registry(options());
  Events events;
  auto watch = registry.watch([&](const RegistryEvent& e) { events.add(e); });
  ASSERT_TRUE(watch.ok());
  WorkloadEntry e = entryFor("198.18.0.10");
  ASSERT_TRUE(registry.registerEntry(e).ok());
  ASSERT_TRUE(events.waitFor(Events::has(RegistryEvent::Kind::kAdded, e.name)));
  std::system(("rm -rf " + dir_).c_str());
  EXPECT_TRUE(events.waitFor(Events::has(RegistryEvent::Kind::kRemoved, e.name)));
  EXPECT_FALSE(registry.updateHealth("bookinfo", e.name, cond(true)).ok());
  ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0);
  ASSERT_TRUE(registry.updateHealth("bookinfo", e.name, cond(true)).ok());
  EXPECT_TRUE(events.waitFor([&](const std::vector<RegistryEvent>& all) {
    int added = 0;
    for (const auto& ev : all)
      added += ev.kind == RegistryEvent::Kind::kAdded;
    return added == 2;
  }));
}

}  // namespace
}  // namespace meshnode::agent
