#include "proxy/tcp/tcp_proxy.h"

#include <asio/experimental/awaitable_operators.hpp>

#include "proxy/stats/stats.h"

namespace meshnode::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> pump(Transport& from, Transport& to, Stats::Counter& rx, Stats::Counter& tx) {
  char buf[16384];
  std::error_code ec;
  for (;;) {
    size_t n = co_await from.readSome(asio::buffer(buf), ec);
    if (ec || n == 0) break;
    bump(rx, n);
    co_await to.writeAll(asio::buffer(buf, n), ec);
    if (ec) {
      from.close();
      break;
    }
    bump(tx, n);
  }
  if (to.isOpen()) co_await to.shutdownSend();
}

}  // namespace

asio::awaitable<void> relayTcp(TransportPtr downstream, std::string to_upstream,
                               TransportPtr upstream, std::string to_downstream) {
  std::error_code ec;
  if (!to_upstream.empty()) {
    co_await upstream->writeAll(asio::buffer(to_upstream), ec);
    if (ec) co_return;
  }
  if (!to_downstream.empty()) {
    co_await downstream->writeAll(asio::buffer(to_downstream), ec);
    if (ec) co_return;
  }
  auto& s = Stats::get();
  co_await (pump(*downstream, *upstream, s.downstream_bytes_rx, s.upstream_bytes_tx) &&
            pump(*upstream, *downstream, s.upstream_bytes_rx, s.downstream_bytes_tx));
}

}  // namespace meshnode::proxy
