#include "proxy/upstream/connect.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "proxy/network/socket_options.h"
#include "proxy/stats/stats.h"

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
                timer.async_wait(asio::use_awaitable));
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

}  // namespace meshnode::proxy
