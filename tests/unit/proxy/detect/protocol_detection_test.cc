#include "proxy/detect/protocol_detection.h"

#include <string>

#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

// A ClientHello as openssl s_client sends it, trimmed to what the parser reads.
std::string clientHello(const std::string& sni) {
  std::string ext;
  if (!sni.empty()) {
    std::string name =
        std::string("\x00", 1) + char(sni.size() >> 8) + char(sni.size() & 0xff) + sni;
    std::string list = std::string() + char(name.size() >> 8) + char(name.size() & 0xff) + name;
    ext = std::string("\x00\x00", 2) + char(list.size() >> 8) + char(list.size() & 0xff) + list;
  }
  std::string body = std::string("\x03\x03", 2) + std::string(32, 'r') + std::string("\x00", 1) +
                     std::string("\x00\x02\x13\x01", 4) + std::string("\x01\x00", 2) +
                     char(ext.size() >> 8) + char(ext.size() & 0xff) + ext;
  std::string hs =
      std::string("\x01\x00", 2) + char(body.size() >> 8) + char(body.size() & 0xff) + body;
  return std::string("\x16\x03\x01", 3) + char(hs.size() >> 8) + char(hs.size() & 0xff) + hs;
}

TEST(ProtocolDetectionTest, Http2Preface) {
  EXPECT_EQ(detectProtocol("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Protocol::kHttp2);
  EXPECT_EQ(detectProtocol("PRI * HTTP/2.0\r\n"), Protocol::kNeedMore);
  // A prefix of the preface is also a prefix of an HTTP/1 method; it must wait, not guess.
  EXPECT_EQ(detectProtocol("PR"), Protocol::kNeedMore);
}

TEST(ProtocolDetectionTest, Http1RequestLine) {
  EXPECT_EQ(detectProtocol("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Protocol::kHttp1);
  EXPECT_EQ(detectProtocol("POST /x?y=1 HTTP/1.0\r\n"), Protocol::kHttp1);
  EXPECT_EQ(detectProtocol("GET /long/path/without/end"), Protocol::kNeedMore);
  EXPECT_EQ(detectProtocol("GET / HTTP/3.0\r\n"), Protocol::kOpaque);
  EXPECT_EQ(detectProtocol("get / HTTP/1.1\r\n"), Protocol::kOpaque);
}

TEST(ProtocolDetectionTest, OpaqueProtocols) {
  EXPECT_EQ(detectProtocol("SSH-2.0-OpenSSH_9.2\r\n"), Protocol::kOpaque);
  EXPECT_EQ(detectProtocol(std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8)), Protocol::kOpaque);
  EXPECT_EQ(detectProtocol("*1\r\n$4\r\nPING\r\n"), Protocol::kOpaque);
  EXPECT_EQ(detectProtocol(std::string(kMaxDetectionBytes, 'A')), Protocol::kOpaque);
}

TEST(ProtocolDetectionTest, TlsClientHelloAndSni) {
  std::string hello = clientHello("reviews.default.svc.cluster.local");
  EXPECT_EQ(detectProtocol(hello), Protocol::kTls);
  std::string sni;
  EXPECT_EQ(extractSni(hello, &sni), Protocol::kTls);
  EXPECT_EQ(sni, "reviews.default.svc.cluster.local");
  EXPECT_EQ(extractSni(hello.substr(0, hello.size() - 3), &sni), Protocol::kNeedMore);
  EXPECT_EQ(extractSni(clientHello(""), &sni), Protocol::kTls);
  EXPECT_EQ(sni, "");
}

TEST(ProtocolDetectionTest, MalformedClientHelloIsNotTrusted) {
  std::string hello = clientHello("a.example");
  std::string broken = hello;
  broken[broken.size() - 12] = '\x7f';  // name length runs past the extension
  std::string sni;
  EXPECT_EQ(extractSni(broken, &sni), Protocol::kOpaque);
  EXPECT_EQ(extractSni(std::string("\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9), &sni),
            Protocol::kOpaque);  // a ServerHello is not a ClientHello
}

}  // namespace
}  // namespace meshnode::proxy
