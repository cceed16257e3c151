#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace meshnode::proxy {

// Process-wide counters. Workers bump them with relaxed atomics; the admin thread reads them.
struct Stats {
  using Counter = std::atomic<uint64_t>;
  Counter downstream_cx_total{0};
  Counter downstream_cx_active{0};
  Counter downstream_cx_protocol_error{0};
  Counter downstream_cx_idle_timeout{0};
  Counter downstream_rq_idle_timeout{0};
  Counter downstream_cx_http1_total{0};
  Counter downstream_cx_http2_total{0};
  Counter downstream_cx_tcp_total{0};
  Counter downstream_cx_tls_total{0};
  Counter downstream_cx_passthrough_total{0};
  Counter downstream_cx_refused_total{0};
  Counter downstream_cx_overflow{0};
  Counter downstream_rq_total{0};
  Counter downstream_rq_active{0};
  Counter downstream_rq_xx[6]{};  // [1]..[5] by status class
  Counter downstream_bytes_rx{0};
  Counter downstream_bytes_tx{0};
  Counter upstream_cx_total{0};
  Counter upstream_cx_active{0};
  Counter upstream_cx_connect_fail{0};
  Counter upstream_cx_connect_timeout{0};
  Counter upstream_rq_total{0};
  Counter upstream_rq_timeout{0};
  Counter upstream_rq_reset{0};
  Counter upstream_rq_tx_reset{0};  // reset by the proxy: the downstream ended first
  Counter upstream_rq_pending_overflow{0};
  Counter upstream_rq_overflow{0};  // max_requests reached
  Counter upstream_rq_retry{0};
  Counter upstream_rq_retry_overflow{0};  // max_retries reached
  Counter upstream_rq_mirrored{0};
  Counter fault_delays_injected{0};
  Counter fault_aborts_injected{0};
  Counter cors_preflights_answered{0};
  Counter outlier_ejections_total{0};
  Counter outlier_ejections_active{0};
  Counter upstream_bytes_rx{0};
  Counter upstream_bytes_tx{0};
  Counter snapshot_reload_ok{0};
  Counter snapshot_reload_rejected{0};

  static Stats& get();

  void countResponse(int status) {
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) downstream_rq_xx[cls].fetch_add(1, std::memory_order_relaxed);
  }

  std::string prometheus() const;
};

// The Prometheus text format, for every metrics page of the proxy: a family's `# TYPE` line,
// then its samples. `labels` is empty or `{a="x",b="y"}`; names get the meshnode_proxy_ prefix.
void appendFamily(std::string& out, std::string_view name, std::string_view type);
void appendSample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view value);

inline void bump(Stats::Counter& c, uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}
inline void drop(Stats::Counter& c) {
  c.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace meshnode::proxy
