#include "proxy/upstream/pool.h"

#include "proxy/http/http1/client_connection.h"
#include "proxy/http/http2/client_connection.h"
#include "proxy/network/socket_options.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/connect.h"

namespace meshnode::proxy {

const Endpoint* LoadBalancer::pick(const Cluster& cluster) {
  const auto& eps = cluster.endpoints;
  if (eps.empty()) return nullptr;
  if (eps.size() == 1) return &eps[0];
  switch (cluster.lb_policy) {
    case LbPolicy::kRandom:
    case LbPolicy::kLeastRequest: {
      uint64_t total = 0;
      for (const auto& e : eps)
        total += e.weight;
      uint64_t r = std::uniform_int_distribution<uint64_t>(0, total - 1)(rng_);
      for (const auto& e : eps) {
        if (r < e.weight) return &e;
        r -= e.weight;
      }
      return &eps.back();
    }
    case LbPolicy::kRoundRobin: {
      // Weighted: each endpoint takes `weight` consecutive slots of the cycle.
      uint64_t total = 0;
      for (const auto& e : eps)
        total += e.weight;
      uint64_t slot = cursor_[cluster.name]++ % total;
      for (const auto& e : eps) {
        if (slot < e.weight) return &e;
        slot -= e.weight;
      }
      return &eps.back();
    }
  }
  return &eps[0];
}

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
    bump(Stats::get().upstream_rq_pending_overflow);
    co_return makeError(ErrorCode::kLimit, Side::kUpstream,
                        "cluster " + cluster.name + " is at its connection limit", false);
  }
  auto transport = co_await connectTransport(
      &cluster, endpoint, http2 ? security::AppProtocol::kHttp2 : security::AppProtocol::kHttp11);
  if (!transport) co_return transport.error();
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
    conn->close();
    co_return conn;  // the caller still gets its one request through
  }
  auto& list = pools_[key];  // the map may have changed while connecting
  list.push_back(conn);
  ++per_cluster_[cluster.name];
  co_return conn;
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
