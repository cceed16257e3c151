#include "proxy/upstream/connect.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "proxy/network/socket_options.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"
#include "proxy/tls/mesh_tls.h"
#include "proxy/tls/tls_store.h"

namespace meshnode::proxy {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<Result<asio::ip::tcp::socket>> connectUpstream(asio::ip::tcp::endpoint endpoint,
                                                               Millis timeout) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(ex);
  asio::steady_timer timer(ex);
  timer.expires_after(timeout);
  std::error_code ec;
  auto which =
      co_await (socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec)) ||
                timer.async_wait(kNoThrow));
  if (which.index() == 1) {
    bump(Stats::get().upstream_cx_connect_timeout);
    bump(Stats::get().upstream_cx_connect_fail);
    co_return makeError(ErrorCode::kTimeout, Side::kUpstream,
                        "connect " + toString(endpoint) + ": timed out after " +
                            std::to_string(timeout.count()) + " ms",
                        true);
  }
  if (ec) {
    bump(Stats::get().upstream_cx_connect_fail);
    co_return makeError(ErrorCode::kRefused, Side::kUpstream,
                        "connect " + toString(endpoint) + ": " + ec.message(), true);
  }
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  co_return std::move(socket);
}

asio::awaitable<Result<TransportPtr>> connectTransport(const Cluster* cluster,
                                                       asio::ip::tcp::endpoint endpoint,
                                                       security::AppProtocol protocol) {
  Millis timeout = cluster ? cluster->connect_timeout : Millis(5000);
  std::optional<ossl::SslPtr> ssl;
  if (cluster) {
    auto contexts = TlsStore::get().current();
    static const TlsContexts kNone;
    auto made = newUpstreamSsl(contexts ? *contexts : kNone, *cluster, endpoint, protocol);
    if (!made) {
      bump(Stats::get().upstream_cx_connect_fail);
      co_return made.error();
    }
    ssl = std::move(*made);
  }
  auto socket = co_await connectUpstream(endpoint, timeout);
  if (!socket) co_return socket.error();
  if (!ssl) co_return makeTcpTransport(std::move(*socket));
  auto tls = co_await connectTls(std::move(*socket), std::move(*ssl), timeout);
  if (!tls) {
    bump(Stats::get().upstream_cx_connect_fail);
    Error e = tls.error();
    e.detail = toString(endpoint) + ": " + e.detail;
    co_return e;
  }
  co_return tls;
}

}  // namespace meshnode::proxy
