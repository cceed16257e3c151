#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace meshnode::agent::status {

struct HttpReply {
  int status = 0;
  std::string body;
};

// One HTTP/1.0 GET to a loopback listener (the proxy's admin port), bounded by `timeout` in
// total. It blocks the calling thread for at most that long: the daemon's loop uses it for the
// proxy's /ready and /stats/prometheus, which answer from memory.
Result<HttpReply> httpGet(const std::string& address, uint16_t port, const std::string& path,
                          std::chrono::milliseconds timeout);

}  // namespace meshnode::agent::status
