#include "proxy/admin/admin_server.h"

#include <chrono>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "proxy/http/message.h"
#include "proxy/stats/identity_metrics.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy {

AdminServer::AdminServer(asio::io_context& ctx, AdminHandlers handlers)
    : ctx_(ctx), acceptor_(ctx), handlers_(std::move(handlers)) {}

Status AdminServer::listen(const std::string& address, uint16_t port) {
  std::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "admin address " + address);
  asio::ip::tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec)
    return makeError(
        ErrorCode::kIo, Side::kSystem,
        "admin listener " + address + ":" + std::to_string(port) + ": " + ec.message());
  asio::co_spawn(ctx_, acceptLoop(), asio::detached);
  return {};
}

uint16_t AdminServer::port() const {
  std::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

asio::awaitable<void> AdminServer::acceptLoop() {
  for (;;) {
    std::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(ctx_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::serve(asio::ip::tcp::socket socket) {
  std::string request;
  std::error_code ec;
  auto buffer = asio::dynamic_buffer(request, 8192);
  co_await asio::async_read_until(socket, buffer, "\r\n\r\n",
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  std::string line = request.substr(0, request.find("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = line.find(' ', sp1 + 1);
  std::string method = line.substr(0, sp1);
  std::string path = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));

  int status = 200;
  std::string type = "text/plain; charset=utf-8";
  std::string body;
  if (method != "GET" && method != "HEAD") {
    status = 405;
    body = "method not allowed\n";
  } else if (path == "/ready") {
    bool ready = handlers_.ready();
    status = ready ? 200 : 503;
    body = ready ? "LIVE\n" : "NOT READY\n";
  } else if (path == "/stats/prometheus") {
    body = Stats::get().prometheus() + currentIdentityPrometheus(std::chrono::system_clock::now());
  } else if (path == "/config_dump") {
    type = "application/json";
    body = handlers_.config_dump();
  } else {
    status = 404;
    body = "admin endpoints: /ready /stats/prometheus /config_dump\n";
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) +
                    "\r\ncontent-type: " + type +
                    "\r\ncontent-length: " + std::to_string(body.size()) +
                    "\r\nconnection: close\r\n\r\n";
  if (method != "HEAD") out += body;
  co_await asio::async_write(socket, asio::buffer(out),
                             asio::redirect_error(asio::use_awaitable, ec));
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace meshnode::proxy
