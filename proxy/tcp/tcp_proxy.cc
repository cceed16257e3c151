#include "proxy/tcp/tcp_proxy.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "proxy/stats/stats.h"

namespace meshnode::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to,
                           Stats::Counter& rx, Stats::Counter& tx) {
  char buf[16384];
  std::error_code ec;
  for (;;) {
    size_t n = co_await from.async_read_some(asio::buffer(buf),
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    bump(rx, n);
    co_await asio::async_write(to, asio::buffer(buf, n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      from.close(ec);
      break;
    }
    bump(tx, n);
  }
  to.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace

asio::awaitable<void> relayTcp(asio::ip::tcp::socket downstream, std::string to_upstream,
                               asio::ip::tcp::socket upstream, std::string to_downstream) {
  std::error_code ec;
  if (!to_upstream.empty()) {
    co_await asio::async_write(upstream, asio::buffer(to_upstream),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
  if (!to_downstream.empty()) {
    co_await asio::async_write(downstream, asio::buffer(to_downstream),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
  auto& s = Stats::get();
  co_await (pump(downstream, upstream, s.downstream_bytes_rx, s.upstream_bytes_tx) &&
            pump(upstream, downstream, s.upstream_bytes_rx, s.downstream_bytes_tx));
}

}  // namespace meshnode::proxy
