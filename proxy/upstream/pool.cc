#include "proxy/upstream/pool.h"

#include <algorithm>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "proxy/http/http1/client_connection.h"
#include "proxy/http/http2/client_connection.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"
#include "proxy/upstream/connect.h"

namespace meshnode::proxy {

namespace {
// How often (in requests to one endpoint, and at least once per connection it holds) closed
// connections are forgotten when the cluster is below its connection limit, so that the scan
// costs a request less than one look at a connection; at the limit they are forgotten before
// every decision.
constexpr uint32_t kPruneEvery = 64;
}  // namespace

std::shared_ptr<UpstreamConnection> ConnectionPool::takeAvailable(Bucket& bucket, bool scan) {
  while (!bucket.idle.empty()) {
    auto c = bucket.idle.back().lock();
    bucket.idle.pop_back();
    if (c && c->available()) return c;
  }
  if (scan)
    for (auto& c : bucket.conns)
      if (c->available()) return c;
  return nullptr;
}

void ConnectionPool::prune(const std::string& cluster) {
  for (auto& [k, bucket] : pools_) {
    if (k.cluster != cluster) continue;
    std::erase_if(bucket->conns, [&](const auto& c) {
      if (!c->closed()) return false;
      --per_cluster_[cluster];
      return true;
    });
  }
}

std::shared_ptr<ConnectionPool::Bucket>& ConnectionPool::bucketFor(
    const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint, bool http2) {
  // Consecutive requests nearly always go to the bucket the last one used.
  if (last_ && last_->first.http2 == http2 && last_->first.endpoint == endpoint &&
      last_->first.cluster == cluster.name)
    return last_->second;
  auto it = pools_.find(BucketKeyView{cluster.name, endpoint, http2});
  if (it == pools_.end())
    it = pools_.emplace(BucketKey{cluster.name, endpoint, http2}, std::make_shared<Bucket>()).first;
  last_ = &*it;
  return it->second;
}

std::shared_ptr<UpstreamConnection> ConnectionPool::takeIdle(
    const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint, bool http2) {
  if (closed_) return nullptr;
  Bucket& bucket = *bucketFor(cluster, endpoint, http2);
  if (++bucket.acquires >= std::max<size_t>(kPruneEvery, bucket.conns.size())) {
    bucket.acquires = 0;
    prune(cluster.name);
  }
  // HTTP/2 connections are few and shared: look at each. HTTP/1.1 ones announce themselves.
  return takeAvailable(bucket, http2);
}

asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> ConnectionPool::acquire(
    const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint, bool http2,
    const Limits& limits) {
  if (closed_)
    co_return makeError(ErrorCode::kRefused, Side::kInternal, "proxy is draining", false);
  if (auto c = takeIdle(cluster, endpoint, http2)) co_return c;
  std::shared_ptr<Bucket> bucket = bucketFor(cluster, endpoint, http2);
  if (per_cluster_[cluster.name] >= cluster.max_connections) {
    prune(cluster.name);
    if (auto c = takeAvailable(*bucket, true)) co_return c;
  }
  if (per_cluster_[cluster.name] >= cluster.max_connections) {
    auto reused = co_await waitAsPending(cluster, bucket);
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
    c->on_idle = [weak_bucket = std::weak_ptr<Bucket>(bucket),
                  weak_conn = std::weak_ptr<UpstreamConnection>(c)] {
      auto b = weak_bucket.lock();
      if (!b) return;
      b->idle.push_back(weak_conn);
      // Entries of connections that were used again through a scan pile up otherwise.
      if (b->idle.size() > 2 * b->conns.size() + 16)
        std::erase_if(b->idle, [](const auto& w) {
          auto held = w.lock();
          return !held || !held->available();
        });
    };
    conn = c;
  }
  if (closed_) {
    --per_cluster_[cluster.name];
    conn->close();
    co_return conn;  // the caller still gets its one request through
  }
  bucket->conns.push_back(conn);
  co_return conn;
}

asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> ConnectionPool::waitAsPending(
    const Cluster& cluster, const std::shared_ptr<Bucket>& bucket) {
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
    if (auto c = takeAvailable(*bucket, true)) co_return c;
    prune(cluster.name);
    if (per_cluster_[cluster.name] < cluster.max_connections)
      co_return std::shared_ptr<UpstreamConnection>();  // room for a new connection
  }
  bump(Stats::get().upstream_rq_pending_overflow);
  co_return makeError(ErrorCode::kLimit, Side::kUpstream,
                      "cluster " + cluster.name + ": no connection came free", false);
}

void ConnectionPool::closeAll() {
  closed_ = true;
  for (auto& [key, bucket] : pools_)
    for (auto& c : bucket->conns)
      if (c->available()) c->close();
}

size_t ConnectionPool::size() const {
  size_t n = 0;
  for (const auto& [key, bucket] : pools_)
    n += bucket->conns.size();
  return n;
}

}  // namespace meshnode::proxy
