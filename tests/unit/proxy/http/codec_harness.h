#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/http/exchange.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy::testing {

// Serves one codec (Connection) on 127.0.0.1 with a handler that reads the whole request body
// and answers "METHOD PATH BODY-LENGTH", so a test can talk to the codec with raw bytes the
// way a real peer would and see exactly what the peer sees.
template <typename Connection>
class CodecHarness {
 public:
  explicit CodecHarness(Limits limits = {}) : limits_(limits), acceptor_(ctx_) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~CodecHarness() {
    ctx_.stop();
    thread_.join();
  }

  // Sends `bytes`, then reads until the server closes or `quiet` passes without data.
  // A small receive buffer makes a peer that does not read look like one.
  std::string talk(const std::string& bytes,
                   std::chrono::milliseconds quiet = std::chrono::milliseconds(300),
                   int receive_buffer = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port_);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
      ::close(fd);
      return "<connect failed>";
    }
    timeval tv{static_cast<time_t>(quiet.count() / 1000),
               static_cast<suseconds_t>((quiet.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    std::string out;
    char buf[65536];
    closed_by_server_ = false;
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n == 0) closed_by_server_ = true;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  // Whether the last talk() ended because the server closed, rather than by falling quiet.
  bool lastClosedByServer() const { return closed_by_server_; }

  // Runs `f` on the server's thread and waits for it: for the thread's own state, such as its
  // count of requests in flight.
  void onServerThread(std::function<void()> f) {
    std::promise<void> done;
    asio::post(ctx_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  static asio::awaitable<void> answer(std::shared_ptr<DownstreamStream> s) {
    auto ex = co_await asio::this_coro::executor;
    Event ready(ex);
    size_t length = 0;
    if (!s->request_body) {  // a request without a body
      sendLocalReply(*s, 200, s->request.method + " " + s->request.path + " 0");
      co_await s->finished();
      co_return;
    }
    s->request_body->on_readable = [&ready] { ready.notify(); };
    // At teardown the io_context may destroy this frame before the connection aborts the body:
    // the callback must not outlive `ready`.
    struct Unhook {
      std::shared_ptr<BodyPipe> pipe;
      ~Unhook() { pipe->on_readable = nullptr; }
    } unhook{s->request_body};
    for (;;) {
      length += s->request_body->readAll().size();
      if (s->request_body->ended() || s->request_body->aborted()) break;
      co_await ready.wait();
    }
    if (s->request_body->aborted()) co_return;
    sendLocalReply(*s, 200,
                   s->request.method + " " + s->request.path + " " + std::to_string(length));
    co_await s->finished();
  }

  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto conn =
          std::make_shared<Connection>(makeTcpTransport(std::move(socket)), std::string(), limits_,
                                       [this](std::shared_ptr<DownstreamStream> s) {
                                         asio::co_spawn(ctx_, answer(std::move(s)), asio::detached);
                                       });
      asio::co_spawn(ctx_, conn->run(), asio::detached);
      accept();
    });
  }

  Limits limits_;
  asio::io_context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  bool closed_by_server_ = false;
  std::thread thread_;
};

}  // namespace meshnode::proxy::testing
