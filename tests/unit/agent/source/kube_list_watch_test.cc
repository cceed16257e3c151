#include "agent/source/kube_list_watch.h"

#include <deque>

#include <gtest/gtest.h>

namespace meshnode::agent::source {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

// The API server as a script: each list or watch request takes the next answer queued for it,
// and every path asked is kept.
class ScriptedApi : public KubeApi {
 public:
  struct Watch {
    std::vector<std::string> lines;
    std::optional<Error> error;
  };

  std::deque<Result<KubeResponse>> lists;
  std::deque<Watch> watches;
  std::vector<std::string> paths;

  Result<KubeResponse> get(const std::string& path) override {
    paths.push_back("GET " + path);
    if (lists.empty()) return makeError(ErrorCode::kIo, Side::kUpstream, "no list scripted", true);
    auto r = lists.front();
    lists.pop_front();
    return r;
  }
  Status watch(const std::string& path, const std::function<bool(std::string_view)>& on_line,
               const std::atomic<bool>&) override {
    paths.push_back("WATCH " + path);
    if (watches.empty())
      return makeError(ErrorCode::kIo, Side::kUpstream, "no watch scripted", true);
    Watch w = watches.front();
    watches.pop_front();
    for (const auto& line : w.lines)
      if (!on_line(line)) break;
    if (w.error) return *w.error;
    return {};
  }
};

KubeCollection virtualServices() {
  return {"VirtualService", "networking.istio.io/v1",
          "/apis/networking.istio.io/v1/virtualservices"};
}

Json vs(const std::string& name, const std::string& version, const std::string& host) {
  return {{"metadata", {{"name", name}, {"namespace", "shop"}, {"resourceVersion", version}}},
          {"spec", {{"hosts", {host}}}}};
}

KubeResponse list(const std::string& version, std::vector<Json> items) {
  return {200, Json{{"kind", "VirtualServiceList"},
                    {"metadata", {{"resourceVersion", version}}},
                    {"items", items}}
                   .dump()};
}

std::string event(const std::string& type, const Json& object) {
  return Json{{"type", type}, {"object", object}}.dump();
}

std::string gone() {
  return event("ERROR", {{"kind", "Status"},
                         {"code", 410},
                         {"reason", "Expired"},
                         {"message", "too old resource version"}});
}

std::string bookmark(const std::string& version) {
  return event("BOOKMARK", {{"metadata", {{"resourceVersion", version}}}});
}

class KubeListWatchTest : public ::testing::Test {
 protected:
  KubeListWatchTest() : store_([this] { ++changes_; }) {}

  std::map<std::string, std::string> hosts() {
    std::map<std::string, std::string> out;
    KubeObjectStore::ByKind all = store_.snapshot();
    for (const auto& [key, object] : all["VirtualService"])
      out[key] = object["spec"]["hosts"][0].get<std::string>();
    return out;
  }

  ScriptedApi api_;
  int changes_ = 0;
  KubeObjectStore store_;
  std::atomic<bool> stop_{false};
  ListWatchTiming timing_{milliseconds(100), milliseconds(800), std::chrono::seconds(60)};
};

TEST_F(KubeListWatchTest, ListsThenWatchesFromTheListsVersionWithBookmarks) {
  api_.lists.push_back(list("10", {vs("a", "5", "a.test"), vs("b", "6", "b.test")}));
  api_.watches.push_back(
      {{event("MODIFIED", vs("a", "11", "a2.test")), bookmark("15"),
        event("ADDED", vs("c", "16", "c.test")), event("DELETED", vs("b", "17", "b.test"))},
       std::nullopt});
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  EXPECT_FALSE(lw.listed());
  EXPECT_EQ(lw.turn(stop_), milliseconds(0));
  EXPECT_TRUE(lw.listed());
  EXPECT_EQ(lw.resourceVersion(), "10");
  EXPECT_EQ(hosts(),
            (std::map<std::string, std::string>{{"shop/a", "a.test"}, {"shop/b", "b.test"}}));
  lw.turn(stop_);
  ASSERT_EQ(api_.paths.size(), 2u);
  EXPECT_EQ(api_.paths[1],
            "WATCH /apis/networking.istio.io/v1/virtualservices?watch=1&allowWatchBookmarks=true"
            "&resourceVersion=10&timeoutSeconds=60");
  EXPECT_EQ(hosts(),
            (std::map<std::string, std::string>{{"shop/a", "a2.test"}, {"shop/c", "c.test"}}));
  EXPECT_EQ(lw.resourceVersion(), "17");
}

TEST_F(KubeListWatchTest, AWatchEndedByTheServerResumesFromTheLastVersionSeen) {
  api_.lists.push_back(list("10", {}));
  api_.watches.push_back({{bookmark("20")}, std::nullopt});
  api_.watches.push_back({{}, std::nullopt});
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  lw.turn(stop_);
  EXPECT_EQ(lw.turn(stop_), milliseconds(0));
  lw.turn(stop_);
  ASSERT_EQ(api_.paths.size(), 3u);
  EXPECT_NE(api_.paths[2].find("resourceVersion=20&"), std::string::npos) << api_.paths[2];
  EXPECT_EQ(lw.relists(), 0);
}

TEST_F(KubeListWatchTest, GoneRelistsAtOnceAndDropsWhatVanishedMeanwhile) {
  api_.lists.push_back(list("10", {vs("a", "5", "a.test"), vs("b", "6", "b.test")}));
  api_.watches.push_back({{gone()}, std::nullopt});
  api_.lists.push_back(list("40", {vs("a", "33", "a3.test")}));
  // The HTTP status form of 410 relists too.
  api_.watches.push_back(
      {{}, makeError(ErrorCode::kIo, Side::kUpstream, "watch: HTTP 410 Expired", false)});
  api_.lists.push_back(list("50", {vs("a", "33", "a3.test")}));
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  lw.turn(stop_);
  EXPECT_EQ(lw.turn(stop_), milliseconds(0));
  EXPECT_EQ(lw.relists(), 1);
  EXPECT_EQ(lw.resourceVersion(), "40");
  EXPECT_EQ(hosts(), (std::map<std::string, std::string>{{"shop/a", "a3.test"}}));
  int before = changes_;
  lw.turn(stop_);
  EXPECT_EQ(lw.relists(), 2);
  EXPECT_EQ(lw.resourceVersion(), "50");
  // The same objects relisted are no change, so nothing recompiles.
  EXPECT_EQ(changes_, before);
}

TEST_F(KubeListWatchTest, ErrorsBackOffExponentiallyUpToTheCapAndSuccessResets) {
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  api_.lists.push_back(makeError(ErrorCode::kIo, Side::kUpstream, "connect: refused", true));
  api_.lists.push_back(KubeResponse{500, R"({"message": "etcd unavailable"})"});
  api_.lists.push_back(KubeResponse{200, "not json"});
  api_.lists.push_back(KubeResponse{403, "{}"});
  api_.lists.push_back(makeError(ErrorCode::kIo, Side::kUpstream, "connect: refused", true));
  std::vector<milliseconds> delays;
  for (int i = 0; i < 5; ++i)
    delays.push_back(lw.turn(stop_));
  EXPECT_EQ(delays,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400),
                                       milliseconds(800), milliseconds(800)}));
  EXPECT_FALSE(lw.listed());
  EXPECT_EQ(lw.lastError(), "connect: refused");

  api_.lists.push_back(list("10", {}));
  EXPECT_EQ(lw.turn(stop_), milliseconds(0));
  EXPECT_TRUE(lw.listed());
  EXPECT_EQ(lw.lastError(), "");
  // A watch that fails keeps the version and backs off from the start again.
  api_.watches.push_back(
      {{}, makeError(ErrorCode::kIo, Side::kUpstream, "watch: HTTP 500 boom", true)});
  EXPECT_EQ(lw.turn(stop_), milliseconds(100));
  EXPECT_EQ(lw.resourceVersion(), "10");
  // An ERROR event other than 410 is a failure too, and the watch resumes from its version.
  api_.watches.push_back(
      {{event("ERROR", {{"code", 500}, {"message", "internal"}})}, std::nullopt});
  EXPECT_EQ(lw.turn(stop_), milliseconds(200));
  EXPECT_EQ(lw.lastError(), "watch error: internal");
  api_.watches.push_back({{bookmark("12")}, std::nullopt});
  EXPECT_EQ(lw.turn(stop_), milliseconds(0));
  EXPECT_EQ(lw.relists(), 0);
}

TEST_F(KubeListWatchTest, AnUnservedKindIsEmptyAndListedAgainLater) {
  api_.lists.push_back(KubeResponse{404, "{}"});
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  EXPECT_EQ(lw.turn(stop_), milliseconds(800));
  EXPECT_TRUE(lw.listed());
  EXPECT_TRUE(hosts().empty());
  EXPECT_GE(changes_, 1);  // the first view of a kind counts, even empty
  api_.lists.push_back(list("10", {vs("a", "5", "a.test")}));
  lw.turn(stop_);
  EXPECT_EQ(hosts().size(), 1u);
  // Its CRD removed later: the watch's 404 leads to a list, which empties the kind.
  api_.watches.push_back(
      {{}, makeError(ErrorCode::kIo, Side::kUpstream, "watch: HTTP 404 not found", false)});
  EXPECT_EQ(lw.turn(stop_), milliseconds(100));
  api_.lists.push_back(KubeResponse{404, "{}"});
  lw.turn(stop_);
  EXPECT_TRUE(hosts().empty());
}

TEST_F(KubeListWatchTest, UnreadableEventsAreSkippedAndTheWatchGoesOn) {
  api_.lists.push_back(list("10", {}));
  api_.watches.push_back({{"not json", event("ERROR", {{"code", "410"}}),
                           event("ADDED", {{"metadata", {{"resourceVersion", 12}}}}),
                           event("ADDED", vs("a", "13", "a.test"))},
                          std::nullopt});
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  lw.turn(stop_);
  lw.turn(stop_);
  EXPECT_EQ(hosts(), (std::map<std::string, std::string>{{"shop/a", "a.test"}}));
  EXPECT_EQ(lw.resourceVersion(), "13");
}

TEST_F(KubeListWatchTest, AWatchEndingAtOnceIsNotSpunOn) {
  api_.lists.push_back(list("10", {}));
  api_.watches.push_back({{}, std::nullopt});
  KubeListWatch lw(api_, virtualServices(), store_, timing_);
  lw.turn(stop_);
  EXPECT_EQ(lw.turn(stop_), milliseconds(100));
}

}  // namespace
}  // namespace meshnode::agent::source
