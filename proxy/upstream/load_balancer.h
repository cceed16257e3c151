#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/hash_ring.h"
#include "proxy/upstream/outlier_detector.h"

namespace meshnode::proxy {

// Picks an endpoint of a cluster: weighted round robin, least request (two random choices
// compared by active requests per weight, as Envoy does), random, or a consistent-hash ring
// when the cluster has a hash policy. Endpoints the outlier detector ejected are skipped. One per
// worker, on its thread.
class LoadBalancer {
 public:
  using Clock = std::chrono::steady_clock;

  struct PickOptions {
    std::optional<uint64_t> hash;        // consistent-hash key; none: pick at random
    std::vector<const Endpoint*> avoid;  // tried already (retries prefer another)
    Clock::time_point now;               // for the outlier detector's ejections
  };

  // Counts one request in flight to an endpoint for as long as it lives.
  class ActiveRequest {
   public:
    ActiveRequest() = default;
    explicit ActiveRequest(uint32_t* counter) : counter_(counter) { ++*counter_; }
    ActiveRequest(ActiveRequest&& o) noexcept : counter_(o.counter_) { o.counter_ = nullptr; }
    ActiveRequest& operator=(ActiveRequest&& o) noexcept {
      if (this != &o) {
        if (counter_) --*counter_;
        counter_ = o.counter_;
        o.counter_ = nullptr;
      }
      return *this;
    }
    ~ActiveRequest() {
      if (counter_) --*counter_;
    }

   private:
    uint32_t* counter_ = nullptr;
  };

  // Null when the cluster has no endpoint that may be picked.
  const Endpoint* pick(const Cluster& cluster, const PickOptions& options);
  const Endpoint* pick(const Cluster& cluster) {
    PickOptions options;
    options.now = Clock::now();
    return pick(cluster, options);
  }

  ActiveRequest track(const Cluster& cluster, const Endpoint& endpoint);
  uint32_t activeRequests(const Cluster& cluster, const Endpoint& endpoint) const;

  OutlierDetector& outliers() { return outliers_; }
  std::mt19937& rng() { return rng_; }

 private:
  const Endpoint* pickOnce(const Cluster& cluster, const std::vector<size_t>& usable,
                           const PickOptions& options);
  const HashRing& ring(const Cluster& cluster);
  // Active requests are counted by cluster name and endpoint address, so that the count
  // carries over a snapshot swap; looked up in place, without building a key.
  struct ActiveKey {
    std::string cluster;
    std::string address;
    uint16_t port = 0;
  };
  struct ActiveKeyView {
    std::string_view cluster;
    std::string_view address;
    uint16_t port;
  };
  struct ActiveKeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::tuple<std::string_view, std::string_view, uint16_t>(a.cluster, a.address,
                                                                      a.port) <
             std::tuple<std::string_view, std::string_view, uint16_t>(b.cluster, b.address, b.port);
    }
  };

  struct CachedRing {
    std::vector<Endpoint> endpoints;  // the set the ring was built from
    uint64_t minimum_size = 0;
    std::unique_ptr<HashRing> ring;
  };

  std::map<std::string, uint64_t> cursor_;
  std::map<ActiveKey, uint32_t, ActiveKeyLess> active_;
  // Scratch lists of endpoint indexes for pick(), kept to spare an allocation per request.
  std::vector<size_t> usable_, fresh_;
  std::map<std::string, CachedRing> rings_;
  OutlierDetector outliers_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace meshnode::proxy
