#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <poll.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::agent::status {

struct StatusResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// The agent's status listener (127.0.0.1:15020): GET requests only, one response per
// connection, bounded request heads, idle connections closed. Runs on the daemon's loop thread,
// which polls pollFds(); the handler runs there too.
class StatusServer {
 public:
  using Clock = std::chrono::steady_clock;
  using Handler = std::function<StatusResponse(const std::string& path)>;

  // Port 0 picks a free one (tests).
  static Result<std::unique_ptr<StatusServer>> start(const std::string& address, uint16_t port,
                                                     Handler handler);

  uint16_t port() const { return port_; }
  std::vector<pollfd> pollFds() const;
  void process(std::span<const pollfd> fds, Clock::time_point now);

 private:
  struct Connection {
    std::string in;
    std::string out;
    size_t written = 0;
    Clock::time_point since;
  };

  StatusServer() = default;
  void accept(Clock::time_point now);
  // False when the connection is done.
  bool onReadable(int fd, Connection& c);
  bool onWritable(int fd, Connection& c);

  UniqueFd listener_;
  uint16_t port_ = 0;
  Handler handler_;
  std::map<int, Connection> connections_;
};

// "HTTP/1.1 200 OK" and the rest of a complete response.
std::string renderResponse(const StatusResponse& response);

}  // namespace meshnode::agent::status
