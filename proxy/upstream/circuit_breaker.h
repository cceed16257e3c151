#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// The per-cluster limits Envoy calls circuit breakers, counted per worker: concurrent requests
// (max_requests), requests waiting for a connection (max_pending_requests) and concurrent
// retries (max_retries). A limit of 0 means unlimited. Runs on its worker's thread.
class CircuitBreakers {
 public:
  // Holds one unit of a counter until destroyed.
  class Slot {
   public:
    explicit Slot(uint32_t* counter) : counter_(counter) { ++*counter_; }
    Slot(Slot&& other) noexcept : counter_(other.counter_) { other.counter_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        release();
        counter_ = other.counter_;
        other.counter_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    void release() {
      if (counter_) --*counter_;
      counter_ = nullptr;
    }
    uint32_t* counter_;
  };

  std::optional<Slot> tryRequest(const Cluster& cluster) {
    return take(counts_[cluster.name].requests, cluster.max_requests);
  }
  std::optional<Slot> tryPending(const Cluster& cluster) {
    return take(counts_[cluster.name].pending, cluster.max_pending_requests);
  }
  std::optional<Slot> tryRetry(const Cluster& cluster) {
    return take(counts_[cluster.name].retries, cluster.max_retries);
  }

 private:
  struct Counts {
    uint32_t requests = 0, pending = 0, retries = 0;
  };
  static std::optional<Slot> take(uint32_t& counter, uint32_t limit) {
    if (limit != 0 && counter >= limit) return std::nullopt;
    return Slot(&counter);
  }

  std::map<std::string, Counts> counts_;  // node addresses are stable, so Slots may point in
};

// The header Envoy adds to a 503 caused by a circuit breaker.
inline constexpr const char* kOverloadedHeader = "x-envoy-overloaded";

}  // namespace meshnode::proxy
