#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "common/result.h"
#include "proxy/http/stream.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// Picks an endpoint of a cluster: weighted round robin, least request (two random choices,
// as Envoy does) or random. Per worker.
class LoadBalancer {
 public:
  const Endpoint* pick(const Cluster& cluster);
  std::mt19937& rng() { return rng_; }

 private:
  std::map<std::string, uint64_t> cursor_;
  std::mt19937 rng_{std::random_device{}()};
};

// The upstream connections of one worker, by cluster, endpoint and protocol: HTTP/1.1
// connections are reused once idle, HTTP/2 ones shared up to their stream limit.
class ConnectionPool {
 public:
  ConnectionPool() = default;

  asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> acquire(
      const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint, bool http2,
      const Limits& limits);

  // Closes idle connections and refuses new ones (drain).
  void closeAll();
  size_t size() const;

 private:
  std::map<std::string, std::vector<std::shared_ptr<UpstreamConnection>>> pools_;
  std::map<std::string, uint32_t> per_cluster_;
  bool closed_ = false;
};

}  // namespace meshnode::proxy
