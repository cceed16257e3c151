#include "proxy/upstream/load_balancer.h"

#include <algorithm>

namespace meshnode::proxy {
namespace {

bool sameEndpoints(const std::vector<Endpoint>& a, const std::vector<Endpoint>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.address == y.address && x.port == y.port && x.weight == y.weight;
  });
}

size_t weightedRandom(const std::vector<Endpoint>& eps, const std::vector<size_t>& set,
                      std::mt19937& rng) {
  uint64_t total = 0;
  for (size_t i : set)
    total += eps[i].weight;
  uint64_t r = std::uniform_int_distribution<uint64_t>(0, total - 1)(rng);
  for (size_t i : set) {
    if (r < eps[i].weight) return i;
    r -= eps[i].weight;
  }
  return set.back();
}

}  // namespace

LoadBalancer::ActiveRequest LoadBalancer::track(const Cluster& cluster, const Endpoint& endpoint) {
  auto it = active_.find(ActiveKeyView{cluster.name, endpoint.address, endpoint.port});
  if (it == active_.end())
    it = active_.emplace(ActiveKey{cluster.name, endpoint.address, endpoint.port}, 0).first;
  return ActiveRequest(&it->second);
}

uint32_t LoadBalancer::activeRequests(const Cluster& cluster, const Endpoint& endpoint) const {
  auto it = active_.find(ActiveKeyView{cluster.name, endpoint.address, endpoint.port});
  return it == active_.end() ? 0 : it->second;
}

const HashRing& LoadBalancer::ring(const Cluster& cluster) {
  auto& cached = rings_[cluster.name];
  uint64_t size = cluster.consistent_hash->minimum_ring_size;
  if (!cached.ring || cached.minimum_size != size ||
      !sameEndpoints(cached.endpoints, cluster.endpoints)) {
    cached.endpoints = cluster.endpoints;
    cached.minimum_size = size;
    cached.ring = std::make_unique<HashRing>(cluster.endpoints, size);
  }
  return *cached.ring;
}

const Endpoint* LoadBalancer::pick(const Cluster& cluster, const PickOptions& options) {
  const auto& eps = cluster.endpoints;
  usable_.clear();
  fresh_.clear();
  for (size_t i = 0; i < eps.size(); ++i) {
    if (outliers_.ejected(cluster, eps[i], options.now)) continue;
    usable_.push_back(i);
    if (std::find(options.avoid.begin(), options.avoid.end(), &eps[i]) == options.avoid.end())
      fresh_.push_back(i);
  }
  if (usable_.empty()) return nullptr;
  return pickOnce(cluster, fresh_.empty() ? usable_ : fresh_, options);
}

const Endpoint* LoadBalancer::pickOnce(const Cluster& cluster, const std::vector<size_t>& set,
                                       const PickOptions& options) {
  const auto& eps = cluster.endpoints;
  if (cluster.consistent_hash) {
    if (!options.hash) return &eps[weightedRandom(eps, set, rng_)];
    auto index = ring(cluster).pick(
        *options.hash, [&](size_t i) { return std::find(set.begin(), set.end(), i) != set.end(); });
    return index ? &eps[*index] : nullptr;
  }
  if (set.size() == 1) return &eps[set[0]];
  switch (cluster.lb_policy) {
    case LbPolicy::kRandom:
      return &eps[weightedRandom(eps, set, rng_)];
    case LbPolicy::kLeastRequest: {
      // Two random choices; the one with fewer active requests per unit of weight wins.
      std::uniform_int_distribution<size_t> d(0, set.size() - 1);
      const Endpoint& a = eps[set[d(rng_)]];
      const Endpoint& b = eps[set[d(rng_)]];
      uint64_t load_a = uint64_t{activeRequests(cluster, a) + 1} * b.weight;
      uint64_t load_b = uint64_t{activeRequests(cluster, b) + 1} * a.weight;
      return load_b < load_a ? &b : &a;
    }
    case LbPolicy::kRoundRobin: {
      // Weighted: each endpoint takes `weight` consecutive slots of the cycle.
      uint64_t total = 0;
      for (size_t i : set)
        total += eps[i].weight;
      uint64_t slot = cursor_[cluster.name]++ % total;
      for (size_t i : set) {
        if (slot < eps[i].weight) return &eps[i];
        slot -= eps[i].weight;
      }
      return &eps[set.back()];
    }
  }
  return &eps[set[0]];
}

}  // namespace meshnode::proxy
