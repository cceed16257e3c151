#include "proxy/http/http1/wire.h"

#include <array>
#include <cstdio>

#include <strings.h>

namespace meshnode::proxy::http1 {
namespace {

// Room for the header lines and the framing line, so a head is built in one allocation.
size_t headersSize(const HeaderList& headers) {
  size_t size = 64;
  for (const auto& [k, v] : headers)
    size += k.size() + v.size() + 4;
  return size;
}

// Every header but pseudo-headers and Content-Length, which the framing decides; written in
// place rather than from a filtered copy, since it runs for every message.
void appendHeaders(std::string& out, const HeaderList& headers) {
  for (const auto& [k, v] : headers) {
    if (k.empty() || k[0] == ':') continue;
    if (k.size() == 14 && ::strncasecmp(k.c_str(), "content-length", 14) == 0) continue;
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
}

void appendFraming(std::string& out, Framing framing, long long length) {
  if (framing == Framing::kLength) {
    char line[48];
    int n = std::snprintf(line, sizeof(line), "content-length: %lld\r\n", length);
    out.append(line, static_cast<size_t>(n));
  }
  if (framing == Framing::kChunked) out += "transfer-encoding: chunked\r\n";
}

}  // namespace

void appendResponseHead(std::string& out, const ResponseHead& head, Framing framing, bool close,
                        bool http10) {
  out.reserve(out.size() + headersSize(head.headers) + 64);
  out += http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(head.status);
  out += ' ';
  out += reasonPhrase(head.status);
  out += "\r\n";
  appendHeaders(out, head.headers);
  appendFraming(out, framing, head.content_length);
  if (close)
    out += "connection: close\r\n";
  else if (http10)
    out += "connection: keep-alive\r\n";
  out += "\r\n";
}

void appendRequestHead(std::string& out, const RequestHead& head, Framing framing,
                       long long content_length) {
  out.reserve(out.size() + headersSize(head.headers) + head.method.size() + head.path.size() +
              head.authority.size() + 32);
  out += head.method;
  out += ' ';
  out += head.path;
  out += " HTTP/1.1\r\nhost: ";
  out += head.authority;
  out += "\r\n";
  appendHeaders(out, head.headers);
  appendFraming(out, framing, content_length);
  out += "\r\n";
}

void appendBody(std::string& out, std::string_view data, Framing framing) {
  if (data.empty()) return;
  if (framing == Framing::kChunked) {
    char size[24];
    int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    out.append(size, static_cast<size_t>(n));
    out.append(data);
    out += "\r\n";
  } else {
    out.append(data);
  }
}

bool validHeaderValue(std::string_view value) {
  // A table and no early exit, so the loop runs straight through: values are short and nearly
  // always valid.
  static constexpr auto kBad = [] {
    std::array<bool, 256> bad{};
    bad['\0'] = bad['\r'] = bad['\n'] = true;
    return bad;
  }();
  bool bad = false;
  for (char c : value)
    bad |= kBad[static_cast<unsigned char>(c)];
  return !bad;
}

void trimValueInPlace(std::string& value) {
  std::string_view kept = trimWhitespace(value);
  size_t begin = static_cast<size_t>(kept.data() - value.data());
  value.resize(begin + kept.size());
  value.erase(0, begin);
}

}  // namespace meshnode::proxy::http1
