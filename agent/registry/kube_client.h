#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace meshnode::agent {

struct KubeResponse {
  int status = 0;
  std::string body;
};

// A small Kubernetes API client: HTTPS with the service account's bearer token, the server
// verified against the CA bundle (by IP address or name), one connection per request, and
// watch streams read line by line. Blocking: used from the registry's own threads only.
class KubeClient {
 public:
  // `api_server` is "https://host[:port]"; the token file is re-read for every request, since
  // projected tokens are rotated on disk.
  static Result<KubeClient> create(const std::string& api_server, std::string token_file,
                                   std::string ca_file);

  Result<KubeResponse> request(std::string_view method, const std::string& path,
                               const std::string& body = "",
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // GETs `path` and hands each line of the (chunked) body to `on_line` until the server ends
  // the stream, `on_line` returns false, or `stop` is set (checked every 200 ms). Returns the
  // HTTP status of a response that was not 200, as an Error.
  Status stream(const std::string& path, const std::function<bool(std::string_view)>& on_line,
                const std::atomic<bool>& stop);

  const std::string& host() const { return host_; }

 private:
  KubeClient() = default;

  std::string host_;
  uint16_t port_ = 443;
  std::string token_file_;
  std::string ca_file_;
};

}  // namespace meshnode::agent
