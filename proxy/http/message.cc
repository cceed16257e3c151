#include "proxy/http/message.h"

#include <algorithm>
#include <cctype>

namespace meshnode::proxy {

namespace {

// Header names and the tokens compared here are ASCII; std::tolower would consult the locale
// for every character. Without a branch, so that a name is lowered in a straight loop.
char asciiLower(char c) {
  unsigned upper = static_cast<unsigned char>(c - 'A') < 26u;
  return static_cast<char>(c | (upper << 5));
}

// Dropped at every hop whatever Connection names (RFC 9110 7.6.1, RFC 9113 8.2.2). Sorted by
// length first: nearly every header of a message is compared, and few have these lengths.
bool alwaysHopByHop(std::string_view k) {
  switch (k.size()) {
    case 2:
      return k == "te";
    case 7:
      return k == "upgrade" || k == "trailer";
    case 10:
      return k == "connection" || k == "keep-alive";
    case 14:
      return k == "http2-settings";
    case 16:
      return k == "proxy-connection";
    case 17:
      return k == "transfer-encoding";
    default:
      return false;
  }
}

// The headers a Connection value names beyond the hop-by-hop ones, in lower case. The usual
// values ("keep-alive", "close") name none, and are recognized without building a string.
void collectNamed(std::string_view value, bool keep_upgrade, std::vector<std::string>& named) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view token = trimWhitespace(value.substr(start, comma - start));
    start = comma + 1;
    if (token.empty() || equalsIgnoreCase(token, "close") || equalsIgnoreCase(token, "keep-alive"))
      continue;
    std::string name = lowerCase(token);
    if (!alwaysHopByHop(name) && !(keep_upgrade && name == "upgrade"))
      named.push_back(std::move(name));
  }
}

}  // namespace

std::string_view trimWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

void lowerCaseInPlace(std::string& s) {
  for (char& c : s)
    c = asciiLower(c);
}

std::string lowerCase(std::string_view s) {
  std::string out(s);
  lowerCaseInPlace(out);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return asciiLower(x) == asciiLower(y);
         });
}

const std::string* findHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}

void removeHeader(HeaderList& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& h) { return h.first == name; });
}

void setHeader(HeaderList& headers, std::string_view name, std::string value) {
  removeHeader(headers, name);
  headers.emplace_back(std::string(name), std::move(value));
}

void stripHopByHop(HeaderList& headers, bool keep_upgrade) {
  std::vector<std::string> named;
  bool any = false;
  for (const auto& [k, v] : headers) {
    if (!alwaysHopByHop(k)) continue;
    any = true;
    if (k == "connection") collectNamed(v, keep_upgrade, named);
  }
  if (!any) return;  // then Connection named nothing either
  std::erase_if(headers, [&](const auto& h) {
    const std::string& k = h.first;
    if (alwaysHopByHop(k)) return !(keep_upgrade && (k == "upgrade" || k == "connection"));
    return !named.empty() && std::find(named.begin(), named.end(), k) != named.end();
  });
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace meshnode::proxy
