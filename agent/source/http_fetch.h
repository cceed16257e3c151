#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "common/result.h"

namespace meshnode::agent::source {

// How a document is fetched from an http(s) URI: one GET, blocking, on the caller's thread.
struct FetchOptions {
  // Trust anchors for https, a PEM file. Empty: the system's CA bundle.
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{5000};
  // Bounds the whole fetch, name resolution excepted: connect, handshake, request, response.
  std::chrono::milliseconds total_timeout{15000};
  std::size_t max_body = 1024 * 1024;
  // Redirects followed (301, 302, 303, 307, 308); an https URI never redirects to http.
  int max_redirects = 3;
};

// The parts of an http(s) URI a GET needs.
struct HttpUri {
  bool tls = false;
  std::string host;  // without the brackets of an IPv6 literal
  int port = 0;
  std::string target;  // path and query, at least "/"

  std::string authority() const;  // the Host header: host[:port]
};

Result<HttpUri> parseHttpUri(const std::string& uri);

// GETs `uri` and returns the body of a 200 response. Any other status, a body over
// `max_body`, a certificate that does not verify for the URI's host, or a deadline passed is an
// Error naming the URI. When `cancel_fd` (>= 0) becomes readable the fetch stops early.
Result<std::string> fetchHttp(const std::string& uri, const FetchOptions& options,
                              int cancel_fd = -1);

}  // namespace meshnode::agent::source
