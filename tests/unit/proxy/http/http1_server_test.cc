#include <gtest/gtest.h>

#include "proxy/http/http1/server_connection.h"
#include "tests/unit/proxy/http/codec_harness.h"

namespace meshnode::proxy {
namespace {

using Harness = testing::CodecHarness<http1::ServerConnection>;

std::string statusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

TEST(Http1ServerTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  Harness h;
  std::string out = h.talk(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t a = out.find("GET /a 0"), b = out.find("POST /b 5"), c = out.find("GET /c 0");
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(b, std::string::npos) << out;
  ASSERT_NE(c, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(out.find("connection: close"), std::string::npos);
}

TEST(Http1ServerTest, ChunkedBodyIsDecoded) {
  Harness h;
  std::string out = h.talk(
      "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n");
  EXPECT_NE(out.find("POST /up 9"), std::string::npos) << out;
}

TEST(Http1ServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  Harness h;
  std::string out = h.talk(
      "PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
      "Connection: close\r\n\r\nabc");
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("PUT /e 3"), std::string::npos) << out;
}

TEST(Http1ServerTest, Http10WithoutHostIsServedAndClosed) {
  Harness h;
  std::string out = h.talk("GET /old HTTP/1.0\r\n\r\n");
  EXPECT_EQ(statusLine(out), "HTTP/1.0 200 OK");
  EXPECT_NE(out.find("connection: close"), std::string::npos);
}

struct Rejected {
  const char* name;
  const char* request;
  const char* status_line;
};

class Http1RejectTest : public ::testing::TestWithParam<Rejected> {};

TEST_P(Http1RejectTest, PeerSeesErrorAndClose) {
  Harness h;
  std::string out = h.talk(GetParam().request);
  EXPECT_EQ(statusLine(out), GetParam().status_line) << out;
  EXPECT_NE(out.find("connection: close"), std::string::npos) << out;
  EXPECT_EQ(out.find("200 OK"), std::string::npos) << "request reached the handler: " << out;
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, Http1RejectTest,
    ::testing::Values(
        Rejected{"ContentLengthAndChunked",
                 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 "HTTP/1.1 400 Bad Request"},
        Rejected{
            "TwoContentLengths",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "HTTP/1.1 400 Bad Request"},
        Rejected{
            "InvalidChunkSize",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
            "HTTP/1.1 400 Bad Request"},
        Rejected{"ChunkedNotLast",
                 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                 "HTTP/1.1 400 Bad Request"},
        Rejected{"ObsoleteLineFolding", "GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n  two\r\n\r\n",
                 "HTTP/1.1 400 Bad Request"},
        Rejected{"BareLineFeed", "GET / HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400 Bad Request"},
        Rejected{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\nabc",
                 "HTTP/1.1 400 Bad Request"},
        Rejected{"MissingHostOn11", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Http1ServerTest, NulInHeaderValueIsRejected) {
  // A string literal stops at NUL; build the request with its NUL byte intact.
  Harness h;
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nX-A: a";
  req += '\0';
  req += "b\r\n\r\n";
  EXPECT_EQ(statusLine(h.talk(req)), "HTTP/1.1 400 Bad Request");
}

TEST(Http1ServerTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  Limits limits;
  limits.downstream_idle_timeout = Millis(100);
  Harness h(limits);
  // A first request, then silence: the server closes (an orderly EOF, not our read timeout).
  std::string out = h.talk("GET /one HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::milliseconds(3000));
  EXPECT_NE(out.find("GET /one 0"), std::string::npos) << out;
  EXPECT_TRUE(h.lastClosedByServer());
}

TEST(Http1ServerTest, OversizedHeadersGet431) {
  Limits limits;
  limits.max_header_bytes = 2048;
  Harness h(limits);
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n";
  EXPECT_EQ(statusLine(h.talk(big)), "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST(Http1ServerTest, TooManyHeadersGet431) {
  Limits limits;
  limits.max_headers = 10;
  Harness h(limits);
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 20; ++i)
    req += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(statusLine(h.talk(req + "\r\n")), "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST(Http1ServerTest, HeaderBytesThatNeverEndAreCutOff) {
  Limits limits;
  limits.max_header_bytes = 4096;
  Harness h(limits);
  std::string endless = "GET / HTTP/1.1\r\nHost: x\r\nX-Endless: " + std::string(200000, 'a');
  std::string out = h.talk(endless);
  EXPECT_EQ(statusLine(out), "HTTP/1.1 431 Request Header Fields Too Large");
}

}  // namespace
}  // namespace meshnode::proxy
