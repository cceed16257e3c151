#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/http/http1/client_connection.h"
#include "proxy/network/transport.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy {
namespace {

using namespace std::chrono_literals;

// A listening socket on 127.0.0.1 with a port of the kernel's choosing.
int listenOnLoopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  ::listen(fd, 1);
  socklen_t len = sizeof(sin);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  port = ntohs(sin.sin_port);
  return fd;
}

// An upstream connection to 127.0.0.1:`port`, started.
std::shared_ptr<http1::ClientConnection> connectUpstream(asio::io_context& ctx, uint16_t port,
                                                         const Cluster& cluster,
                                                         const Limits& limits) {
  asio::ip::tcp::socket socket(ctx);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  auto conn = std::make_shared<http1::ClientConnection>(makeTcpTransport(std::move(socket)),
                                                        cluster, limits);
  conn->start();
  return conn;
}

RequestHead getRequest(const std::string& path) {
  RequestHead head;
  head.method = "GET";
  head.path = path;
  head.authority = "upstream";
  return head;
}

// A blocking upstream on 127.0.0.1 for one connection: reads one request, waits `delay`, answers
// 200 "ok", then reports how the connection ended: "eof" when the proxy closed it within 3 s,
// "open" when it did not.
class OneShotUpstream {
 public:
  explicit OneShotUpstream(std::chrono::milliseconds delay) {
    listener_ = listenOnLoopback(port_);
    ended_ = std::async(std::launch::async, [this, delay] {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return std::string("no connection");
      char buf[4096];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::this_thread::sleep_for(delay);
      std::string response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
      ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
      timeval tv{3, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      ::close(fd);
      return std::string(n == 0 ? "eof" : "open");
    });
  }
  ~OneShotUpstream() { ::close(listener_); }

  uint16_t port() const { return port_; }
  std::string ending() { return ended_.get(); }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::future<std::string> ended_;
};

// Sends GET / on a new upstream connection with `idle_timeout`: the response status, whether the
// upstream then saw the connection closed, and whether the connection says it is closed.
struct Outcome {
  int status = 0;
  std::string ending;
  bool closed = false;
};

Outcome oneRequest(std::chrono::milliseconds delay, Millis idle_timeout) {
  OneShotUpstream upstream(delay);
  asio::io_context ctx;
  Cluster cluster;
  cluster.idle_timeout = idle_timeout;
  auto conn = connectUpstream(ctx, upstream.port(), cluster, Limits{});
  Outcome out;
  RequestHead head = getRequest("/");
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto stream = conn->startRequest(head, nullptr);
        auto r = co_await stream->response(std::chrono::steady_clock::now() + 5s);
        if (r && r->ok()) out.status = r->value().status;
        stream->response_body->detach();
      },
      asio::detached);
  std::thread runner([&] { ctx.run_for(4s); });
  out.ending = upstream.ending();
  ctx.stop();
  runner.join();
  out.closed = conn->closed();
  return out;
}

TEST(Http1ClientTest, IdleConnectionIsClosedAfterTheClusterIdleTimeout) {
  Outcome out = oneRequest(0ms, Millis(100));
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.ending, "eof");  // the proxy closed it once idle, well within 3 s
  EXPECT_TRUE(out.closed);
}

TEST(Http1ClientTest, ConnectionWaitingForAResponseIsNotClosedAsIdle) {
  // The response takes four idle timeouts; the request is still answered.
  Outcome out = oneRequest(400ms, Millis(100));
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.ending, "eof");
}

TEST(Http1ClientTest, ConnectionIsKeptWithinTheIdleTimeout) {
  Outcome out = oneRequest(0ms, Millis(60000));
  EXPECT_EQ(out.status, 200);
  // Still open when the upstream gave up after 3 s. (The upstream's own close then ends it, so
  // closed() says nothing here.)
  EXPECT_EQ(out.ending, "open");
}

TEST(Http1ClientTest, SlowReaderPausesTheUpstreamAndGetsTheWholeBody) {
  constexpr size_t kBody = 4 << 20;
  // An upstream that answers with a 4 MiB body as fast as the socket takes it.
  uint16_t port = 0;
  int listener = listenOnLoopback(port);
  auto sent = std::async(std::launch::async, [listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    char buf[4096];
    ::recv(fd, buf, sizeof(buf), 0);
    std::string response =
        "HTTP/1.1 200 OK\r\ncontent-length: " + std::to_string(kBody) + "\r\n\r\n";
    response.append(kBody, 'x');
    size_t off = 0;
    while (off < response.size()) {
      ssize_t n = ::send(fd, response.data() + off, response.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
    return off == response.size();
  });

  asio::io_context ctx;
  Limits limits;
  limits.buffer_high_watermark = 64 * 1024;
  auto conn = connectUpstream(ctx, port, Cluster{}, limits);
  RequestHead head = getRequest("/big");
  size_t held_while_unread = 0;
  size_t received = 0;
  bool ended = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto stream = conn->startRequest(head, nullptr);
        auto r = co_await stream->response(std::chrono::steady_clock::now() + 5s);
        if (!r || !r->ok()) co_return;
        auto& body = *stream->response_body;
        asio::steady_timer pause(ctx, 300ms);
        co_await pause.async_wait(kNoThrow);
        held_while_unread = body.size();
        Event readable(ctx.get_executor());
        body.on_readable = [&readable] { readable.notify(); };
        char chunk[8192];
        while (!body.drained() && !body.aborted()) {
          size_t n = body.read(chunk, sizeof(chunk));
          received += n;
          if (n == 0) co_await readable.wait(5s);
        }
        ended = body.drained();
        body.on_readable = nullptr;
      },
      asio::detached);
  ctx.run_for(10s);
  ::close(listener);
  EXPECT_TRUE(sent.get());
  // Reading stopped at the high watermark (plus at most one socket read) while nobody read.
  EXPECT_GE(held_while_unread, limits.buffer_high_watermark);
  EXPECT_LE(held_while_unread, limits.buffer_high_watermark + 16384);
  EXPECT_EQ(received, kBody);
  EXPECT_TRUE(ended);
}

TEST(Http1ClientTest, UpstreamClosingAnIdleConnectionIsNoticedWithoutAnotherRequest) {
  // An upstream that answers, then closes the connection 50 ms later without having said so.
  uint16_t port = 0;
  int listener = listenOnLoopback(port);
  auto upstream = std::async(std::launch::async, [listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    char buf[4096];
    ::recv(fd, buf, sizeof(buf), 0);
    std::string response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(50ms);
    ::close(fd);
  });

  asio::io_context ctx;
  Cluster cluster;
  cluster.idle_timeout = Millis(3600 * 1000);  // the proxy's own idle close stays out of it
  auto conn = connectUpstream(ctx, port, cluster, Limits{});
  RequestHead head = getRequest("/");
  int status = 0;
  bool available_after_response = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto stream = conn->startRequest(head, nullptr);
        auto r = co_await stream->response(std::chrono::steady_clock::now() + 5s);
        if (r && r->ok()) status = r->value().status;
        stream->response_body->detach();
        asio::steady_timer settle(ctx, 10ms);
        co_await settle.async_wait(kNoThrow);
        available_after_response = conn->available();
      },
      asio::detached);
  ctx.run_for(1s);
  upstream.get();
  ::close(listener);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(available_after_response);
  EXPECT_TRUE(conn->closed());  // seen while idle, with no request to find it out
}

// The exchange resets its upstream stream when the client leaves before reading the whole
// response. A stream whose response has ended has handed its connection back, and resetting it
// must not close the connection under the next request.
TEST(Http1ClientTest, ResettingAFinishedStreamLeavesTheConnectionToTheNextRequest) {
  uint16_t port = 0;
  int listener = listenOnLoopback(port);
  auto upstream = std::async(std::launch::async, [listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    char buf[4096];
    int answered = 0;
    std::string request;
    while (answered < 2) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
      size_t end;
      while ((end = request.find("\r\n\r\n")) != std::string::npos) {
        request.erase(0, end + 4);
        std::string response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
        ++answered;
      }
    }
    std::this_thread::sleep_for(200ms);
    ::close(fd);
    return answered;
  });

  asio::io_context ctx;
  auto conn = connectUpstream(ctx, port, Cluster{}, Limits{});
  RequestHead head = getRequest("/");
  int second_status = 0;
  bool closed_after_reset = true;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto first = conn->startRequest(head, nullptr);
        auto r1 = co_await first->response(std::chrono::steady_clock::now() + 5s);
        if (!r1 || !r1->ok()) co_return;
        // Once the body has ended, the connection is idle again.
        auto& body = *first->response_body;
        Event readable(ctx.get_executor());
        body.on_readable = [&readable] { readable.notify(); };
        while (!body.ended() && !body.aborted())
          co_await readable.wait(5s);
        body.on_readable = nullptr;
        auto second = conn->startRequest(head, nullptr);
        first->reset();
        auto r2 = co_await second->response(std::chrono::steady_clock::now() + 5s);
        if (r2 && r2->ok()) second_status = r2->value().status;
        closed_after_reset = conn->closed();
        first->response_body->detach();
        second->response_body->detach();
      },
      asio::detached);
  ctx.run_for(1s);
  EXPECT_EQ(upstream.get(), 2);
  ::close(listener);
  EXPECT_EQ(second_status, 200);
  EXPECT_FALSE(closed_after_reset);
}

}  // namespace
}  // namespace meshnode::proxy
