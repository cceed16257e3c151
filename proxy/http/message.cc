#include "proxy/http/message.h"

#include <algorithm>
#include <cctype>

namespace meshnode::proxy {

namespace {

// Header names and the tokens compared here are ASCII; std::tolower would consult the locale
// for every character.
char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Dropped at every hop whatever Connection names (RFC 9110 7.6.1, RFC 9113 8.2.2).
bool alwaysHopByHop(std::string_view k) {
  return k == "connection" || k == "keep-alive" || k == "proxy-connection" ||
         k == "transfer-encoding" || k == "upgrade" || k == "te" || k == "trailer" ||
         k == "http2-settings";
}

}  // namespace

std::string lowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = asciiLower(c);
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
  // The usual Connection values ("keep-alive", "close") name nothing more to drop, so this
  // list is nearly always empty.
  std::vector<std::string> named;
  if (const std::string* conn = findHeader(headers, "connection")) {
    size_t start = 0;
    while (start <= conn->size()) {
      size_t comma = conn->find(',', start);
      if (comma == std::string::npos) comma = conn->size();
      std::string token = lowerCase(std::string_view(*conn).substr(start, comma - start));
      token.erase(0, token.find_first_not_of(" \t"));
      token.erase(token.find_last_not_of(" \t") + 1);
      if (!token.empty() && token != "close" && !alwaysHopByHop(token) &&
          !(keep_upgrade && token == "upgrade"))
        named.push_back(token);
      start = comma + 1;
    }
  }
  std::erase_if(headers, [&](const auto& h) {
    const std::string& k = h.first;
    if (keep_upgrade && (k == "upgrade" || k == "connection")) return false;
    return alwaysHopByHop(k) || std::find(named.begin(), named.end(), k) != named.end();
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
