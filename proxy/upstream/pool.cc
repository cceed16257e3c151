#include "proxy/upstream/pool.h"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "proxy/http/http1/client_connection.h"
#include "proxy/http/http2/client_connection.h"
#include "proxy/network/socket_options.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"
#include "proxy/upstream/connect.h"

namespace meshnode::proxy {

asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> ConnectionPool::acquire(
    const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint, bool http2,
    const Limits& limits) {
  if (closed_)
    co_return makeError(ErrorCode::kRefused, Side::kInternal, "proxy is draining", false);
  std::string key = cluster.name + "|" + toString(endpoint) + (http2 ? "|h2" : "|h1");
  auto& conns = pools_[key];
  std::erase_if(conns, [&](const auto& c) {
    if (!c->closed()) return false;
    --per_cluster_[cluster.name];
    return true;
  });
  for (auto& c : conns)
    if (c->available()) co_return c;
  if (per_cluster_[cluster.name] >= cluster.max_connections) {
    auto reused = co_await waitAsPending(cluster, key);
    if (!reused || *reused) co_return reused;
  }
  // Counted from the connect on, so a burst of requests cannot open more than the limit.
  ++per_cluster_[cluster.name];
  auto transport = co_await connectTransport(
      &cluster, endpoint, http2 ? security::AppProtocol::kHttp2 : security::AppProtocol::kHttp11);
  if (!transport) {
    --per_cluster_[cluster.name];
    co_return transport.error();
  }
  std::shared_ptr<UpstreamConnection> conn;
  if (http2) {
    auto c = std::make_shared<http2::ClientConnection>(std::move(*transport), cluster, limits);
    c->start();
    conn = c;
  } else {
    auto c = std::make_shared<http1::ClientConnection>(std::move(*transport), cluster, limits);
    c->start();
    conn = c;
  }
  if (closed_) {
    --per_cluster_[cluster.name];
    conn->close();
    co_return conn;  // the caller still gets its one request through
  }
  auto& list = pools_[key];  // the map may have changed while connecting
  list.push_back(conn);
  co_return conn;
}

asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> ConnectionPool::waitAsPending(
    const Cluster& cluster, const std::string& key) {
  auto pending = breakers_.tryPending(cluster);
  if (!pending) {
    bump(Stats::get().upstream_rq_pending_overflow);
    co_return makeError(ErrorCode::kLimit, Side::kUpstream,
                        "cluster " + cluster.name + " is at its connection limit", false);
  }
  // The codecs say nothing when a request ends, so a pending request looks again every few
  // milliseconds; it is a short wait bounded by the connect timeout.
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto give_up = std::chrono::steady_clock::now() + cluster.connect_timeout;
  while (!closed_ && std::chrono::steady_clock::now() < give_up) {
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(kNoThrow);
    for (auto& c : pools_[key])
      if (c->available()) co_return c;
    for (auto& [k, conns] : pools_) {
      if (!k.starts_with(cluster.name + "|")) continue;
      std::erase_if(conns, [&](const auto& c) {
        if (!c->closed()) return false;
        --per_cluster_[cluster.name];
        return true;
      });
    }
    if (per_cluster_[cluster.name] < cluster.max_connections)
      co_return std::shared_ptr<UpstreamConnection>();  // room for a new connection
  }
  bump(Stats::get().upstream_rq_pending_overflow);
  co_return makeError(ErrorCode::kLimit, Side::kUpstream,
                      "cluster " + cluster.name + ": no connection came free", false);
}

void ConnectionPool::closeAll() {
  closed_ = true;
  for (auto& [key, conns] : pools_)
    for (auto& c : conns)
      if (c->available()) c->close();
}

size_t ConnectionPool::size() const {
  size_t n = 0;
  for (const auto& [key, conns] : pools_)
    n += conns.size();
  return n;
}

}  // namespace meshnode::proxy
