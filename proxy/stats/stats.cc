#include "proxy/stats/stats.h"

namespace meshnode::proxy {

Stats& Stats::get() {
  static Stats stats;
  return stats;
}

void appendFamily(std::string& out, std::string_view name, std::string_view type) {
  out += "# TYPE meshnode_proxy_";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void appendSample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view value) {
  out += "meshnode_proxy_";
  out += name;
  out += labels;
  out += ' ';
  out += value;
  out += '\n';
}

std::string Stats::prometheus() const {
  std::string out;
  auto line = [&](const char* name, const char* type, uint64_t value) {
    appendFamily(out, name, type);
    appendSample(out, name, "", std::to_string(value));
  };
  auto v = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  line("downstream_cx_total", "counter", v(downstream_cx_total));
  line("downstream_cx_active", "gauge", v(downstream_cx_active));
  line("downstream_cx_protocol_error", "counter", v(downstream_cx_protocol_error));
  line("downstream_cx_idle_timeout", "counter", v(downstream_cx_idle_timeout));
  line("downstream_rq_idle_timeout", "counter", v(downstream_rq_idle_timeout));
  line("downstream_cx_http1_total", "counter", v(downstream_cx_http1_total));
  line("downstream_cx_http2_total", "counter", v(downstream_cx_http2_total));
  line("downstream_cx_tcp_total", "counter", v(downstream_cx_tcp_total));
  line("downstream_cx_tls_total", "counter", v(downstream_cx_tls_total));
  line("downstream_cx_passthrough_total", "counter", v(downstream_cx_passthrough_total));
  line("downstream_cx_refused_total", "counter", v(downstream_cx_refused_total));
  line("downstream_cx_overflow", "counter", v(downstream_cx_overflow));
  line("downstream_rq_total", "counter", v(downstream_rq_total));
  line("downstream_rq_active", "gauge", v(downstream_rq_active));
  out += "# TYPE meshnode_proxy_downstream_rq counter\n";
  for (int cls = 1; cls <= 5; ++cls)
    out += "meshnode_proxy_downstream_rq{response_code_class=\"" + std::to_string(cls) + "xx\"} " +
           std::to_string(v(downstream_rq_xx[cls])) + "\n";
  line("downstream_bytes_rx", "counter", v(downstream_bytes_rx));
  line("downstream_bytes_tx", "counter", v(downstream_bytes_tx));
  line("upstream_cx_total", "counter", v(upstream_cx_total));
  line("upstream_cx_active", "gauge", v(upstream_cx_active));
  line("upstream_cx_connect_fail", "counter", v(upstream_cx_connect_fail));
  line("upstream_cx_connect_timeout", "counter", v(upstream_cx_connect_timeout));
  line("upstream_rq_total", "counter", v(upstream_rq_total));
  line("upstream_rq_timeout", "counter", v(upstream_rq_timeout));
  line("upstream_rq_reset", "counter", v(upstream_rq_reset));
  line("upstream_rq_tx_reset", "counter", v(upstream_rq_tx_reset));
  line("upstream_rq_pending_overflow", "counter", v(upstream_rq_pending_overflow));
  line("upstream_rq_overflow", "counter", v(upstream_rq_overflow));
  line("upstream_rq_retry", "counter", v(upstream_rq_retry));
  line("upstream_rq_retry_overflow", "counter", v(upstream_rq_retry_overflow));
  line("upstream_rq_mirrored", "counter", v(upstream_rq_mirrored));
  line("fault_delays_injected", "counter", v(fault_delays_injected));
  line("fault_aborts_injected", "counter", v(fault_aborts_injected));
  line("cors_preflights_answered", "counter", v(cors_preflights_answered));
  line("outlier_ejections_total", "counter", v(outlier_ejections_total));
  line("outlier_ejections_active", "gauge", v(outlier_ejections_active));
  line("upstream_bytes_rx", "counter", v(upstream_bytes_rx));
  line("upstream_bytes_tx", "counter", v(upstream_bytes_tx));
  line("snapshot_reload_ok", "counter", v(snapshot_reload_ok));
  line("snapshot_reload_rejected", "counter", v(snapshot_reload_rejected));
  return out;
}

}  // namespace meshnode::proxy
