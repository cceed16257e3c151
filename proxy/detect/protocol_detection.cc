#include "proxy/detect/protocol_detection.h"

#include <algorithm>
#include <cstdint>

namespace meshnode::proxy {
namespace {

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool isTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

Protocol detectHttp1(std::string_view data) {
  // METHOD SP request-target SP HTTP/1.x CRLF; methods are upper-case tokens.
  size_t i = 0;
  while (i < data.size() && i < 32 && isTokenChar(data[i]))
    ++i;
  if (i == data.size()) return i < 32 ? Protocol::kNeedMore : Protocol::kOpaque;
  if (i == 0 || data[i] != ' ') return Protocol::kOpaque;
  size_t eol = data.find('\n', i);
  if (eol == std::string_view::npos)
    return data.size() < kMaxDetectionBytes ? Protocol::kNeedMore : Protocol::kOpaque;
  std::string_view line = data.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() < 9) return Protocol::kOpaque;
  std::string_view version = line.substr(line.size() - 9);
  if (version == " HTTP/1.1" || version == " HTTP/1.0") return Protocol::kHttp1;
  return Protocol::kOpaque;
}

}  // namespace

const char* toString(Protocol p) {
  switch (p) {
    case Protocol::kNeedMore:
      return "undetermined";
    case Protocol::kHttp1:
      return "http/1.1";
    case Protocol::kHttp2:
      return "h2c";
    case Protocol::kTls:
      return "tls";
    case Protocol::kOpaque:
      return "tcp";
  }
  return "tcp";
}

Protocol detectProtocol(std::string_view data) {
  if (data.empty()) return Protocol::kNeedMore;
  if (data[0] == 0x16) {
    if (data.size() < 3) return Protocol::kNeedMore;
    return data[1] == 0x03 ? Protocol::kTls : Protocol::kOpaque;
  }
  size_t n = std::min(data.size(), kH2Preface.size());
  if (data.substr(0, n) == kH2Preface.substr(0, n))
    return n == kH2Preface.size() ? Protocol::kHttp2 : Protocol::kNeedMore;
  return detectHttp1(data);
}

Protocol extractSni(std::string_view data, std::string* sni) {
  sni->clear();
  auto u8 = [&](size_t at) { return static_cast<uint8_t>(data[at]); };
  auto u16 = [&](size_t at) { return static_cast<size_t>(u8(at) << 8 | u8(at + 1)); };
  if (data.size() < 5) return Protocol::kNeedMore;
  if (u8(0) != 0x16 || u8(1) != 0x03) return Protocol::kOpaque;
  size_t record = u16(3);
  if (data.size() < 5 + record) {
    return 5 + record > kMaxDetectionBytes ? Protocol::kOpaque : Protocol::kNeedMore;
  }
  std::string_view hello = data.substr(5, record);
  data = hello;
  // handshake header: type(1)=client_hello, length(3)
  if (data.size() < 4 || u8(0) != 0x01) return Protocol::kOpaque;
  size_t pos = 4 + 2 + 32;  // version, random
  if (pos + 1 > data.size()) return Protocol::kOpaque;
  pos += 1 + u8(pos);  // session id
  if (pos + 2 > data.size()) return Protocol::kOpaque;
  pos += 2 + u16(pos);  // cipher suites
  if (pos + 1 > data.size()) return Protocol::kOpaque;
  pos += 1 + u8(pos);                             // compression methods
  if (pos == data.size()) return Protocol::kTls;  // no extensions
  if (pos + 2 > data.size()) return Protocol::kOpaque;
  size_t end = pos + 2 + u16(pos);
  if (end > data.size()) return Protocol::kOpaque;
  pos += 2;
  while (pos + 4 <= end) {
    size_t type = u16(pos), len = u16(pos + 2);
    pos += 4;
    if (pos + len > end) return Protocol::kOpaque;
    if (type == 0) {  // server_name: list length(2), then name_type(1) length(2) name
      size_t p = pos + 2;
      size_t list_end = pos + len;
      while (p + 3 <= list_end) {
        size_t name_len = u16(p + 1);
        if (p + 3 + name_len > list_end) return Protocol::kOpaque;
        if (u8(p) == 0) {
          sni->assign(data.substr(p + 3, name_len));
          return Protocol::kTls;
        }
        p += 3 + name_len;
      }
      return Protocol::kOpaque;
    }
    pos += len;
  }
  return Protocol::kTls;
}

std::vector<std::string> clientHelloAlpn(std::string_view data) {
  std::vector<std::string> out;
  auto u8 = [&](size_t at) { return static_cast<uint8_t>(data[at]); };
  auto u16 = [&](size_t at) { return static_cast<size_t>(u8(at) << 8 | u8(at + 1)); };
  if (data.size() < 5 || u8(0) != 0x16 || u8(1) != 0x03) return out;
  size_t record = u16(3);
  if (data.size() < 5 + record) return out;
  data = data.substr(5, record);
  if (data.size() < 4 || u8(0) != 0x01) return out;
  size_t pos = 4 + 2 + 32;
  if (pos + 1 > data.size()) return out;
  pos += 1 + u8(pos);
  if (pos + 2 > data.size()) return out;
  pos += 2 + u16(pos);
  if (pos + 1 > data.size()) return out;
  pos += 1 + u8(pos);
  if (pos + 2 > data.size()) return out;
  size_t end = pos + 2 + u16(pos);
  if (end > data.size()) return out;
  pos += 2;
  while (pos + 4 <= end) {
    size_t type = u16(pos), len = u16(pos + 2);
    pos += 4;
    if (pos + len > end) return {};
    if (type == 16 && len >= 2) {  // application_layer_protocol_negotiation
      size_t p = pos + 2;
      size_t list_end = std::min(pos + 2 + u16(pos), pos + len);
      while (p + 1 <= list_end) {
        size_t n = u8(p);
        if (p + 1 + n > list_end) return {};
        out.emplace_back(data.substr(p + 1, n));
        p += 1 + n;
      }
      return out;
    }
    pos += len;
  }
  return out;
}

}  // namespace meshnode::proxy
