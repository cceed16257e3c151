#include "agent/source/resolved_hosts.h"

#include <gtest/gtest.h>

namespace meshnode::agent::source {
namespace {

using namespace std::chrono_literals;
using Clock = ResolvedHostTable::Clock;

Result<Answer> answer(std::vector<std::string> addresses, std::chrono::seconds ttl) {
  return Answer{std::move(addresses), ttl};
}
Result<Answer> failure() {
  return makeError(ErrorCode::kTimeout, Side::kUpstream, "resolve db.example: timeout", true);
}

TEST(ResolvedHostTable, NewHostsAreDueAtOnceAndAskedOnce) {
  ResolvedHostTable t(5s, 300s);
  Clock::time_point now{};
  t.setHosts({"a.example", "b.example"}, now);
  EXPECT_TRUE(t.waitingForFirstAnswer());
  EXPECT_EQ(t.takeDue(now), (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_TRUE(t.takeDue(now).empty()) << "asked twice while in flight";
}

TEST(ResolvedHostTable, TheTtlIsKeptWithinFloorAndCeiling) {
  ResolvedHostTable t(5s, 60s);
  Clock::time_point now{};
  t.setHosts({"low", "high", "mid"}, now);
  t.takeDue(now);
  EXPECT_TRUE(t.onAnswer("low", answer({"198.18.0.1"}, 1s), now));
  EXPECT_TRUE(t.onAnswer("high", answer({"198.18.0.2"}, 3600s), now));
  EXPECT_TRUE(t.onAnswer("mid", answer({"198.18.0.3"}, 20s), now));
  EXPECT_EQ(t.nextDue(), now + 5s);
  EXPECT_EQ(t.takeDue(now + 5s), std::vector<std::string>{"low"});
  EXPECT_EQ(t.takeDue(now + 20s), std::vector<std::string>{"mid"});
  EXPECT_TRUE(t.takeDue(now + 59s).empty());
  EXPECT_EQ(t.takeDue(now + 60s), std::vector<std::string>{"high"});
}

TEST(ResolvedHostTable, AChangedAnswerIsAChangeAndTheSameOneIsNot) {
  ResolvedHostTable t(1s, 300s);
  Clock::time_point now{};
  t.setHosts({"db.example"}, now);
  t.takeDue(now);
  EXPECT_TRUE(t.onAnswer("db.example", answer({"198.18.0.1"}, 1s), now));
  t.takeDue(now + 1s);
  EXPECT_FALSE(t.onAnswer("db.example", answer({"198.18.0.1"}, 1s), now + 1s));
  t.takeDue(now + 2s);
  EXPECT_TRUE(t.onAnswer("db.example", answer({"198.18.0.9"}, 1s), now + 2s));
  EXPECT_EQ(t.resolved().at("db.example"), std::vector<std::string>{"198.18.0.9"});
  EXPECT_EQ(t.changes(), 2u);
}

TEST(ResolvedHostTable, AFailedLookupKeepsTheLastGoodAddressesAndRetriesAfterTheFloor) {
  ResolvedHostTable t(3s, 300s);
  Clock::time_point now{};
  t.setHosts({"db.example"}, now);
  t.takeDue(now);
  t.onAnswer("db.example", answer({"198.18.0.1", "198.18.0.2"}, 30s), now);
  t.takeDue(now + 30s);
  EXPECT_FALSE(t.onAnswer("db.example", failure(), now + 30s));
  EXPECT_EQ(t.resolved().at("db.example"), (std::vector<std::string>{"198.18.0.1", "198.18.0.2"}));
  EXPECT_EQ(t.failures(), 1u);
  EXPECT_EQ(t.nextDue(), now + 33s);
}

TEST(ResolvedHostTable, ADroppedHostWithAddressesChangesTheSnapshot) {
  ResolvedHostTable t(1s, 300s);
  Clock::time_point now{};
  t.setHosts({"a", "b"}, now);
  t.takeDue(now);
  t.onAnswer("a", answer({"198.18.0.1"}, 5s), now);
  EXPECT_FALSE(t.setHosts({"a"}, now)) << "b never had addresses";
  EXPECT_TRUE(t.setHosts({}, now));
  EXPECT_TRUE(t.resolved().empty());
  EXPECT_FALSE(t.onAnswer("a", answer({"198.18.0.2"}, 5s), now)) << "answer for a dropped host";
}

TEST(ResolvedHostTable, QuestionsOfAReplacedResolverAreAskedAgain) {
  ResolvedHostTable t(5s, 300s);
  Clock::time_point now{};
  t.setHosts({"db.example"}, now);
  t.takeDue(now);
  EXPECT_TRUE(t.takeDue(now + 1s).empty());
  t.forgetInFlight(now + 1s);
  EXPECT_EQ(t.takeDue(now + 1s), std::vector<std::string>{"db.example"});
}

}  // namespace
}  // namespace meshnode::agent::source
