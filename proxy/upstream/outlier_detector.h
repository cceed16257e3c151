#pragma once

#include <chrono>
#include <map>
#include <string>

#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// Passive health of a cluster's endpoints, as Envoy's outlier detection keeps it: an endpoint is
// ejected after `consecutive_5xx` answers of 5xx (or no answer at all), or after
// `consecutive_gateway_errors` of 502/503/504 (or no answer), for base_ejection_time times the
// number of times it was ejected. Ejected endpoints return at the first `interval` tick after
// their time is up; an endpoint that stays healthy for an interval has its multiplier lowered.
// At most max_ejection_percent of the endpoints are ejected at once, but always one may be.
// Below min_health_percent healthy endpoints, ejections are ignored. One per worker: each worker
// judges its own traffic, as each Envoy worker does.
class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;

  // The outcome of one request to the endpoint: its status, or 0 when no response came.
  // Returns true when this outcome ejected the endpoint.
  bool record(const Cluster& cluster, const Endpoint& endpoint, int status, Clock::time_point now);

  // Whether the endpoint must not be picked now.
  bool ejected(const Cluster& cluster, const Endpoint& endpoint, Clock::time_point now);

  size_t ejectedCount(const Cluster& cluster, Clock::time_point now);

 private:
  struct Host {
    uint32_t consecutive_5xx = 0;
    uint32_t consecutive_gateway = 0;
    uint32_t ejections = 0;  // the multiplier of base_ejection_time
    bool ejected = false;
    Clock::time_point ejected_at{};
  };
  struct ClusterState {
    std::map<std::string, Host> hosts;  // by "address:port"
    Clock::time_point next_tick{};
  };

  ClusterState& state(const Cluster& cluster, Clock::time_point now);
  void tick(const OutlierDetection& od, ClusterState& s, Clock::time_point now);
  void eject(const Cluster& cluster, ClusterState& s, Host& host, Clock::time_point now,
             bool* ejected);

  std::map<std::string, ClusterState> clusters_;
};

std::string endpointKey(const Endpoint& endpoint);

}  // namespace meshnode::proxy
