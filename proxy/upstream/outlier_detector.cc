#include "proxy/upstream/outlier_detector.h"

#include "common/log.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy {

std::string endpointKey(const Endpoint& endpoint) {
  return endpoint.address + ":" + std::to_string(endpoint.port);
}

OutlierDetector::ClusterState& OutlierDetector::state(const Cluster& cluster,
                                                      Clock::time_point now) {
  auto& s = clusters_[cluster.name];
  tick(*cluster.outlier_detection, s, now);
  return s;
}

void OutlierDetector::tick(const OutlierDetection& od, ClusterState& s, Clock::time_point now) {
  if (now < s.next_tick) return;
  s.next_tick = now + od.interval;
  for (auto& [key, host] : s.hosts) {
    if (host.ejected) {
      if (now >= host.ejected_at + od.base_ejection_time * host.ejections) {
        host.ejected = false;
        host.consecutive_5xx = 0;
        host.consecutive_gateway = 0;
        drop(Stats::get().outlier_ejections_active);
        LOG_INFO("outlier detection: %s returns to the pool", key.c_str());
      }
    } else if (host.ejections > 0) {
      --host.ejections;
    }
  }
}

void OutlierDetector::eject(const Cluster& cluster, ClusterState& s, Host& host,
                            Clock::time_point now, bool* ejected) {
  size_t total = cluster.endpoints.size();
  size_t already = 0;
  for (const auto& [key, h] : s.hosts)
    already += h.ejected ? 1 : 0;
  uint32_t max_percent = cluster.outlier_detection->max_ejection_percent;
  if (already > 0 && total > 0 && (already + 1) * 100 > max_percent * total) return;
  host.ejected = true;
  host.ejected_at = now;
  ++host.ejections;
  *ejected = true;
  bump(Stats::get().outlier_ejections_total);
  bump(Stats::get().outlier_ejections_active);
}

bool OutlierDetector::record(const Cluster& cluster, const Endpoint& endpoint, int status,
                             Clock::time_point now) {
  if (!cluster.outlier_detection) return false;
  const OutlierDetection& od = *cluster.outlier_detection;
  auto& s = state(cluster, now);
  Host& host = s.hosts[endpointKey(endpoint)];
  if (host.ejected) return false;
  bool failed = status == 0 || status >= 500;
  bool gateway = status == 0 || status == 502 || status == 503 || status == 504;
  host.consecutive_5xx = failed ? host.consecutive_5xx + 1 : 0;
  host.consecutive_gateway = gateway ? host.consecutive_gateway + 1 : 0;
  bool ejected = false;
  if ((od.consecutive_5xx && host.consecutive_5xx >= od.consecutive_5xx) ||
      (od.consecutive_gateway_errors &&
       host.consecutive_gateway >= od.consecutive_gateway_errors)) {
    eject(cluster, s, host, now, &ejected);
    if (ejected)
      LOG_INFO("outlier detection: ejected %s of cluster %s for %lld ms",
               endpointKey(endpoint).c_str(), cluster.name.c_str(),
               static_cast<long long>((od.base_ejection_time * host.ejections).count()));
  }
  return ejected;
}

size_t OutlierDetector::ejectedCount(const Cluster& cluster, Clock::time_point now) {
  if (!cluster.outlier_detection) return 0;
  size_t n = 0;
  for (const auto& [key, h] : state(cluster, now).hosts)
    n += h.ejected ? 1 : 0;
  return n;
}

bool OutlierDetector::ejected(const Cluster& cluster, const Endpoint& endpoint,
                              Clock::time_point now) {
  if (!cluster.outlier_detection) return false;
  auto& s = state(cluster, now);
  auto it = s.hosts.find(endpointKey(endpoint));
  if (it == s.hosts.end() || !it->second.ejected) return false;
  size_t total = cluster.endpoints.size();
  size_t ejected = ejectedCount(cluster, now);
  uint32_t min_health = cluster.outlier_detection->min_health_percent;
  // Too few healthy endpoints: outlier detection steps aside and every endpoint takes traffic.
  if (min_health > 0 && total > 0 && (total - ejected) * 100 < min_health * total) return false;
  return true;
}

}  // namespace meshnode::proxy
