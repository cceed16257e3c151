#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/http/http2/server_connection.h"
#include "proxy/stream/in_flight.h"
#include "tests/unit/proxy/http/codec_harness.h"

namespace meshnode::proxy {
namespace {

using Harness = testing::CodecHarness<http2::ServerConnection>;

constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kPing = 6, kGoaway = 7,
                  kContinuation = 9;
constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4;

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  f += char(payload.size() >> 16);
  f += char(payload.size() >> 8);
  f += char(payload.size());
  f += char(type);
  f += char(flags);
  f += char(stream >> 24);
  f += char(stream >> 16);
  f += char(stream >> 8);
  f += char(stream);
  return f + payload;
}

std::string preface() {
  return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + frame(kSettings, 0, 0, "");
}

// GET / on authority "a", from HPACK's static table: :method GET, :scheme http, :path /.
std::string getHeaders() {
  return std::string(
      "\x82\x86\x84\x41\x01"
      "a",
      6);
}

struct Frame {
  uint8_t type;
  uint8_t flags;
  uint32_t stream;
  std::string payload;
};

std::vector<Frame> parseFrames(const std::string& bytes) {
  std::vector<Frame> frames;
  size_t pos = 0;
  while (pos + 9 <= bytes.size()) {
    auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[pos + i]); };
    size_t len = (u8(0) << 16) | (u8(1) << 8) | u8(2);
    if (pos + 9 + len > bytes.size()) break;
    uint32_t stream = ((u8(5) & 0x7f) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8);
    frames.push_back({u8(3), u8(4), stream, bytes.substr(pos + 9, len)});
    pos += 9 + len;
  }
  return frames;
}

uint32_t be32(const std::string& s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// The error code of the GOAWAY the server sent, or -1 when there was none.
int64_t goawayCode(const std::vector<Frame>& frames) {
  for (const auto& f : frames)
    if (f.type == kGoaway && f.payload.size() >= 8) return be32(f.payload, 4);
  return -1;
}

bool hasResponseHeaders(const std::vector<Frame>& frames, uint32_t stream) {
  for (const auto& f : frames)
    if (f.type == kHeaders && f.stream == stream) return true;
  return false;
}

TEST(Http2ServerTest, ServesRequestsWithBodies) {
  Harness h;
  std::string req = preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, getHeaders()) +
                    frame(kHeaders, kEndHeaders, 3,
                          std::string("\x83\x86\x84\x41\x01"
                                      "a",
                                      6)) +
                    frame(kData, 0, 3, "hello ") + frame(kData, kEndStream, 3, "world");
  auto frames = parseFrames(h.talk(req));
  EXPECT_TRUE(hasResponseHeaders(frames, 1));
  EXPECT_TRUE(hasResponseHeaders(frames, 3));
  std::string body3;
  for (const auto& f : frames)
    if (f.type == kData && f.stream == 3) body3 += f.payload;
  EXPECT_EQ(body3, "POST / 11\n");
  EXPECT_EQ(goawayCode(frames), -1);
}

// With many requests in flight on the worker, responses are serialized as soon as they are
// complete, from inside the call that completed them, and their streams close there. The
// peer must see the same answers, each stream ended once.
TEST(Http2ServerTest, ResponsesSerializedAtOnceUnderLoadAreComplete) {
  Harness h;
  h.onServerThread([] { requests_in_flight = kManyRequestsInFlight; });
  std::string req = preface();
  for (uint32_t id = 1; id <= 9; id += 2) {
    req += frame(kHeaders, kEndHeaders, id,
                 std::string("\x83\x86\x84\x41\x01"
                             "a",
                             6));
    req += frame(kData, kEndStream, id, std::string(id, 'x'));
  }
  req += frame(kHeaders, kEndHeaders | kEndStream, 11, getHeaders());
  auto frames = parseFrames(h.talk(req));
  h.onServerThread([] { requests_in_flight = 0; });
  for (uint32_t id = 1; id <= 11; id += 2) {
    std::string body;
    int ends = 0;
    for (const auto& f : frames) {
      if (f.stream != id) continue;
      if (f.type == kData) body += f.payload;
      if ((f.type == kData || f.type == kHeaders) && (f.flags & kEndStream)) ++ends;
    }
    EXPECT_TRUE(hasResponseHeaders(frames, id)) << "stream " << id;
    EXPECT_EQ(body, id == 11 ? "GET / 0\n" : "POST / " + std::to_string(id) + "\n")
        << "stream " << id;
    EXPECT_EQ(ends, 1) << "stream " << id;
  }
  EXPECT_EQ(goawayCode(frames), -1);
}

TEST(Http2ServerTest, TrailersEndTheRequestBody) {
  Harness h;
  // POST with a body, then trailers (HPACK literal "tt: v") carrying END_STREAM.
  std::string trailers("\x00\x02tt\x01v", 6);
  std::string req = preface() +
                    frame(kHeaders, kEndHeaders, 1,
                          std::string("\x83\x86\x84\x41\x01"
                                      "a",
                                      6)) +
                    frame(kData, 0, 1, "hello") +
                    frame(kHeaders, kEndHeaders | kEndStream, 1, trailers);
  auto frames = parseFrames(h.talk(req));
  std::string body;
  for (const auto& f : frames)
    if (f.type == kData && f.stream == 1) body += f.payload;
  EXPECT_EQ(body, "POST / 5\n");
  EXPECT_EQ(goawayCode(frames), -1);
}

TEST(Http2ServerTest, BadPrefaceGetsProtocolError) {
  Harness h;
  auto frames = parseFrames(h.talk("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(kPing, 0, 1, "x")));
  EXPECT_EQ(goawayCode(frames), 1);  // PROTOCOL_ERROR
}

TEST(Http2ServerTest, RapidResetIsCutOffWithGoaway) {
  Harness h;
  std::string req = preface();
  for (uint32_t id = 1; id < 2 * 3000; id += 2) {
    req += frame(kHeaders, kEndHeaders | kEndStream, id, getHeaders());
    req += frame(kRstStream, 0, id, std::string("\0\0\0\x08", 4));  // CANCEL
  }
  auto frames = parseFrames(h.talk(req, std::chrono::milliseconds(1000)));
  // nghttp2's reset rate limit answers with GOAWAY INTERNAL_ERROR long before the last stream.
  ASSERT_EQ(goawayCode(frames), 2);
  uint32_t last_stream = 0;
  for (const auto& f : frames)
    if (f.type == kGoaway) last_stream = be32(f.payload, 0) & 0x7fffffff;
  EXPECT_LT(last_stream, 2u * 3000 - 1);
}

TEST(Http2ServerTest, ContinuationFloodIsCutOff) {
  Harness h;
  std::string req = preface() + frame(kHeaders, 0, 1, std::string("\x82\x86", 2));
  for (int i = 0; i < 200; ++i)
    req += frame(kContinuation, 0, 1, std::string("\x84", 1));
  auto frames = parseFrames(h.talk(req));
  EXPECT_GT(goawayCode(frames), 0);
  EXPECT_FALSE(hasResponseHeaders(frames, 1));
}

TEST(Http2ServerTest, HpackBombResetsTheStream) {
  Limits limits;
  limits.max_header_bytes = 16 * 1024;
  Harness h(limits);
  // One 4 KiB header added to the dynamic table, then referenced 100 times: a small block that
  // decodes to 400 KiB of headers.
  std::string block = getHeaders();
  std::string value(4000, 'v');
  block += std::string("\x40\x01x", 3);
  block += std::string("\x7f", 1);  // value length 4000 = 127 + 3873, 7-bit prefix integer
  uint32_t rest = 4000 - 127;
  while (rest >= 128) {
    block += char((rest % 128) | 0x80);
    rest /= 128;
  }
  block += char(rest);
  block += value;
  for (int i = 0; i < 100; ++i)
    block += std::string("\xbe", 1);  // index 62: the entry above
  std::string req = preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, block) +
                    frame(kHeaders, kEndHeaders | kEndStream, 3, getHeaders());
  auto frames = parseFrames(h.talk(req));
  bool reset1 = false;
  for (const auto& f : frames)
    reset1 = reset1 || (f.type == kRstStream && f.stream == 1);
  EXPECT_TRUE(reset1);
  EXPECT_FALSE(hasResponseHeaders(frames, 1));
  EXPECT_TRUE(hasResponseHeaders(frames, 3));  // only the offending stream pays
}

TEST(Http2ServerTest, SettingsAndPingFloodsCloseTheConnection) {
  for (uint8_t type : {kSettings, kPing}) {
    Harness h;
    std::string req = preface();
    std::string f = type == kSettings ? frame(kSettings, 0, 0, "") : frame(kPing, 0, 0, "12345678");
    // More acks than the kernel's socket buffers hold, sent by a peer that does not read.
    constexpr size_t kFrames = 700000;
    for (size_t i = 0; i < kFrames; ++i)
      req += f;
    std::string out = h.talk(req, std::chrono::milliseconds(1500), 4096);
    auto frames = parseFrames(out);
    // The acks the server owes are bounded: it gives up on the peer instead of queueing them.
    size_t acks = 0;
    for (const auto& fr : frames)
      acks += fr.type == type && (fr.flags & 1);
    EXPECT_LT(acks, kFrames) << "type " << int(type);
    // ...and still serves the next connection.
    auto next =
        parseFrames(h.talk(preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, getHeaders())));
    EXPECT_TRUE(hasResponseHeaders(next, 1)) << "type " << int(type);
  }
}

TEST(Http2ServerTest, ConcurrentStreamLimitRefusesExtraStreams) {
  Limits limits;
  limits.max_concurrent_streams = 2;
  Harness h(limits);
  // Three streams left open (no END_STREAM): the third exceeds the advertised limit.
  std::string req = preface();
  for (uint32_t id : {1u, 3u, 5u})
    req += frame(kHeaders, kEndHeaders, id, getHeaders());
  auto frames = parseFrames(h.talk(req));
  bool refused5 = false;
  for (const auto& f : frames)
    refused5 = refused5 || (f.type == kRstStream && f.stream == 5 && be32(f.payload, 0) == 7);
  EXPECT_TRUE(refused5);
  EXPECT_EQ(goawayCode(frames), -1);
}

TEST(Http2ServerTest, ConnectionWithoutStreamsIsClosedAfterTheIdleTimeout) {
  Limits limits;
  limits.downstream_idle_timeout = Millis(100);
  Harness h(limits);
  // One request, then silence: the server says GOAWAY (no error) and closes.
  auto frames =
      parseFrames(h.talk(preface() + frame(kHeaders, kEndHeaders | kEndStream, 1, getHeaders()),
                         std::chrono::milliseconds(3000)));
  EXPECT_TRUE(hasResponseHeaders(frames, 1));
  EXPECT_EQ(goawayCode(frames), 0);
  EXPECT_TRUE(h.lastClosedByServer());
}

TEST(Http2ServerTest, StreamWithoutActivityGets408AfterTheStreamIdleTimeout) {
  Limits limits;
  limits.stream_idle_timeout = Millis(100);
  Harness h(limits);
  // Stream 1 announces a body and never sends it; stream 3 is complete and answered at once.
  auto frames = parseFrames(h.talk(preface() + frame(kHeaders, kEndHeaders, 1, getHeaders()) +
                                       frame(kHeaders, kEndHeaders | kEndStream, 3, getHeaders()),
                                   std::chrono::milliseconds(1500)));
  std::string status1;
  for (const auto& f : frames)
    if (f.type == kHeaders && f.stream == 1 && !f.payload.empty()) status1 = f.payload;
  // HPACK: 408 is not in the static table, so it goes as a literal ":status: 408".
  EXPECT_NE(status1.find("408"), std::string::npos);
  EXPECT_TRUE(hasResponseHeaders(frames, 3));
  EXPECT_EQ(goawayCode(frames), -1);  // the connection itself stays up
  EXPECT_FALSE(h.lastClosedByServer());
}

}  // namespace
}  // namespace meshnode::proxy
