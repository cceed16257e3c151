#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshnode::proxy {

// Header names are kept in lower case, as HTTP/2 sends them.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Codecs reserve this many headers for each message they parse, so that a typical head, and
// the few headers the proxy adds to it, cost the list one allocation.
inline constexpr size_t kHeadersReserved = 16;

struct RequestHead {
  std::string method;
  std::string scheme = "http";
  std::string authority;
  std::string path;  // with the query
  HeaderList headers;
  bool http10 = false;
  bool expect_continue = false;
  bool upgrade = false;  // HTTP/1.1 Upgrade (WebSocket)
  bool has_body = false;
  long long content_length = -1;
};

struct ResponseHead {
  int status = 0;
  HeaderList headers;
  long long content_length = -1;
};

const std::string* findHeader(const HeaderList& headers, std::string_view name);
void removeHeader(HeaderList& headers, std::string_view name);
void setHeader(HeaderList& headers, std::string_view name, std::string value);

// Drops the connection-specific headers (RFC 9110 7.6.1), including those named by
// Connection, which must not cross a proxy. Upgrade is kept when keep_upgrade is set.
void stripHopByHop(HeaderList& headers, bool keep_upgrade = false);

std::string lowerCase(std::string_view s);
void lowerCaseInPlace(std::string& s);
// Without the optional whitespace (spaces and tabs) around it, as field values and list
// elements are read (RFC 9110 5.5, 5.6.1).
std::string_view trimWhitespace(std::string_view s);
bool equalsIgnoreCase(std::string_view a, std::string_view b);
const char* reasonPhrase(int status);

}  // namespace meshnode::proxy
