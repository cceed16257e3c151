#pragma once

#include <functional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "common/result.h"

namespace meshnode::proxy {

// What the admin endpoints show; provided by the server, called on the main thread.
struct AdminHandlers {
  std::function<bool()> ready;               // /ready: 200 LIVE or 503
  std::function<std::string()> config_dump;  // /config_dump
};

// The loopback admin listener (default 127.0.0.1:15000): /ready, /stats/prometheus,
// /config_dump. Plain HTTP/1.1, one request per connection. Runs on the main thread.
class AdminServer {
 public:
  AdminServer(asio::io_context& ctx, AdminHandlers handlers);

  Status listen(const std::string& address, uint16_t port);
  uint16_t port() const;

 private:
  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);

  asio::io_context& ctx_;
  asio::ip::tcp::acceptor acceptor_;
  AdminHandlers handlers_;
};

}  // namespace meshnode::proxy
