#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "common/result.h"
#include "proxy/http/stream.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/circuit_breaker.h"
#include "proxy/upstream/load_balancer.h"

namespace meshnode::proxy {

// The upstream connections of one worker, by cluster, endpoint and protocol: HTTP/1.1
// connections are reused once idle, HTTP/2 ones shared up to their stream limit. At the
// cluster's connection limit a request waits as pending (up to max_pending_requests, for at most
// the connect timeout) for a connection to come free.
class ConnectionPool {
 public:
  ConnectionPool() = default;

  // A connection for one request: an idle or shareable one, a new one, or one that came free
  // while the request waited as pending.
  asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> acquire(
      const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint, bool http2,
      const Limits& limits);
  // The idle or shareable connection acquire() would return at once, or null; lets a request
  // that finds one skip the suspension acquire() costs.
  std::shared_ptr<UpstreamConnection> takeIdle(const Cluster& cluster,
                                               const asio::ip::tcp::endpoint& endpoint, bool http2);

  // Closes idle connections and refuses new ones (drain).
  void closeAll();
  size_t size() const;
  CircuitBreakers& breakers() { return breakers_; }

 private:
  // At the connection limit: waits for an idle connection (returned) or for room to open one
  // (null), or fails when the pending limit or the connect timeout is reached.
  // The connections to one endpoint of one cluster with one protocol.
  struct Bucket {
    std::vector<std::shared_ptr<UpstreamConnection>> conns;
    // HTTP/1.1 connections that finished a request, newest last, so a request finds a free
    // connection without scanning them all; an entry used again or closed since is skipped.
    std::vector<std::weak_ptr<UpstreamConnection>> idle;
    uint32_t acquires = 0;
  };

  // Buckets are found by cluster name, endpoint and protocol, compared in place so that a
  // lookup builds no string.
  struct BucketKey {
    std::string cluster;
    asio::ip::tcp::endpoint endpoint;
    bool http2 = false;
  };
  struct BucketKeyView {
    std::string_view cluster;
    const asio::ip::tcp::endpoint& endpoint;
    bool http2;
  };
  struct BucketKeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::tuple<std::string_view, const asio::ip::tcp::endpoint&, bool>(
                 a.cluster, a.endpoint, a.http2) <
             std::tuple<std::string_view, const asio::ip::tcp::endpoint&, bool>(
                 b.cluster, b.endpoint, b.http2);
    }
  };

  std::shared_ptr<Bucket>& bucketFor(const Cluster& cluster,
                                     const asio::ip::tcp::endpoint& endpoint, bool http2);
  asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> waitAsPending(
      const Cluster& cluster, const std::shared_ptr<Bucket>& bucket);
  static std::shared_ptr<UpstreamConnection> takeAvailable(Bucket& bucket, bool scan);
  // Forgets the closed connections of `cluster`, so its connection count is exact.
  void prune(const std::string& cluster);

  std::map<BucketKey, std::shared_ptr<Bucket>, BucketKeyLess> pools_;
  // The entry bucketFor() found last; map entries stay put, and none is ever erased.
  std::pair<const BucketKey, std::shared_ptr<Bucket>>* last_ = nullptr;
  std::map<std::string, uint32_t> per_cluster_;
  bool closed_ = false;
  CircuitBreakers breakers_;
};

}  // namespace meshnode::proxy
