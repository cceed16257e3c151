#include "agent/dns/message.h"

#include <random>

#include <gtest/gtest.h>

#include "tests/unit/agent/dns/dns_test_util.h"

namespace meshnode::agent::dns {
namespace {

using testing::answerData;
using testing::makeQuery;

TEST(DnsMessageTest, ParsesQueryAndEdnsSize) {
  auto wire = makeQuery(0x1234, "Reviews.Bookinfo.svc.cluster.local", kTypeAaaa, 1232);
  auto q = parseQuery(wire);
  ASSERT_TRUE(q.ok()) << q.error().describe();
  EXPECT_EQ(q->header.id, 0x1234);
  EXPECT_TRUE(q->header.recursionDesired());
  EXPECT_EQ(q->question.name, "reviews.bookinfo.svc.cluster.local");
  EXPECT_EQ(q->question.type, kTypeAaaa);
  EXPECT_EQ(q->udp_limit, 1232u);
  EXPECT_EQ(parseQuery(makeQuery(1, "a.test", kTypeA)).value().udp_limit, 512u);
}

TEST(DnsMessageTest, ReplyEchoesQuestionAndCarriesAnswers) {
  auto wire = makeQuery(7, "a.test", kTypeA);
  auto q = parseQuery(wire);
  ASSERT_TRUE(q.ok());
  auto reply = buildReply(*q, wire, kRcodeNoError, true,
                          {Record{kTypeA, 30, {240, 240, 0, 1}}, Record{kTypeA, 30, {1, 2, 3, 4}}});
  auto info = parseResponse(reply);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->header.id, 7);
  EXPECT_EQ(info->header.rcode(), kRcodeNoError);
  EXPECT_TRUE(info->header.flags & 0x0400);
  EXPECT_EQ(info->question.name, "a.test");
  EXPECT_EQ(info->min_ttl, 30u);
  auto data = answerData(reply);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0], (std::vector<uint8_t>{240, 240, 0, 1}));
}

TEST(DnsMessageTest, TruncatedReplyKeepsQuestionAndSetsTc) {
  auto wire = makeQuery(9, "big.test", kTypeA);
  auto q = parseQuery(wire);
  std::vector<Record> many(100, Record{kTypeA, 30, {1, 2, 3, 4}});
  auto reply = buildReply(*q, wire, kRcodeNoError, false, many);
  auto small = truncateReply(*q, wire, reply);
  auto info = parseResponse(small);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->header.truncated());
  EXPECT_EQ(info->header.ancount, 0);
  EXPECT_EQ(info->question.name, "big.test");
}

TEST(DnsMessageTest, RejectsMalformedMessages) {
  auto good = makeQuery(1, "a.test", kTypeA);
  // Shorter than a header.
  EXPECT_FALSE(parseQuery(std::vector<uint8_t>(good.begin(), good.begin() + 5)).ok());
  // Question cut short.
  EXPECT_FALSE(parseQuery(std::vector<uint8_t>(good.begin(), good.end() - 3)).ok());
  // Label longer than the message.
  auto bad_label = good;
  bad_label[12] = 60;
  EXPECT_FALSE(parseQuery(bad_label).ok());
  // A compression pointer to itself (a loop) and one pointing forward.
  std::vector<uint8_t> loop = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  EXPECT_FALSE(parseQuery(loop).ok());
  std::vector<uint8_t> forward = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 20, 0, 1, 0, 1};
  EXPECT_FALSE(parseQuery(forward).ok());
  // Reserved label type.
  auto reserved = good;
  reserved[12] = 0x41;
  EXPECT_FALSE(parseQuery(reserved).ok());
  // Two questions, or a response where a query was expected.
  auto two = good;
  two[5] = 2;
  EXPECT_FALSE(parseQuery(two).ok());
  auto response = good;
  response[2] |= 0x80;
  EXPECT_FALSE(parseQuery(response).ok());
  // Claims an additional record that is not there.
  auto missing = good;
  missing[11] = 1;
  EXPECT_FALSE(parseQuery(missing).ok());
}

TEST(DnsMessageTest, NameLongerThan255IsRejected) {
  std::vector<uint8_t> wire = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 5; ++i) {
    wire.push_back(63);
    wire.insert(wire.end(), 63, 'a');
  }
  wire.insert(wire.end(), {0, 0, 1, 0, 1});
  auto q = parseQuery(wire);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().detail.find("255"), std::string::npos);
  EXPECT_FALSE(encodeName(std::string(64, 'a') + ".test").ok());
  EXPECT_FALSE(encodeName("a..test").ok());
}

TEST(DnsMessageTest, ResponseTtlsFoundThroughCompression) {
  // Upstream style: answer name is a pointer, an OPT record at the end is not aged.
  auto wire = makeQuery(3, "x.test", kTypeA, 1232);
  auto q = parseQuery(wire);
  auto reply = buildReply(*q, wire, kRcodeNoError, false, {Record{kTypeA, 300, {1, 1, 1, 1}}});
  reply[11] = 1;  // arcount
  std::vector<uint8_t> opt = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0};
  reply.insert(reply.end(), opt.begin(), opt.end());
  auto info = parseResponse(reply);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->ttl_offsets.size(), 1u);
  EXPECT_EQ(info->min_ttl, 300u);
}

// Mutated and random messages must be rejected or read, never read out of bounds (the ASan
// build runs this too). The seed is fixed so a failure reproduces.
TEST(DnsMessageTest, SurvivesMutatedAndRandomInput) {
  std::mt19937 rng(20261126);
  // A query with EDNS, made into a response carrying one answer: every section is present.
  auto query = makeQuery(1, "reviews.bookinfo.svc.cluster.local", kTypeA, 1232);
  auto valid = buildReply(*parseQuery(query), query, kRcodeNoError, false,
                          {Record{kTypeA, 30, {198, 18, 0, 1}}});
  int parsed = 0;
  for (int i = 0; i < 200000; ++i) {
    std::vector<uint8_t> wire;
    if (i % 2 == 0) {
      wire = valid;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f)
        wire[rng() % wire.size()] = static_cast<uint8_t>(rng());
      if (rng() % 4 == 0) wire.resize(rng() % wire.size());
    } else {
      wire.resize(rng() % 64);
      for (auto& b : wire)
        b = static_cast<uint8_t>(rng());
    }
    parsed += parseQuery(wire).ok();
    parsed += parseResponse(wire).ok();
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace meshnode::agent::dns
