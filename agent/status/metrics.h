#pragma once

#include <cstdint>
#include <string>

namespace meshnode::agent::status {

// What the agent counts about itself, rendered next to the proxy's own metrics on
// /stats/prometheus. Written and read on the daemon's loop thread.
struct AgentMetrics {
  uint64_t proxy_restarts = 0;
  bool proxy_up = false;
  bool proxy_crash_looping = false;
  bool ready = false;
  uint64_t snapshots_applied = 0;
  uint64_t snapshot_compile_errors = 0;
  uint64_t config_source_errors = 0;
  uint64_t dns_lookup_failures = 0;
  uint64_t dns_answer_changes = 0;
  std::string snapshot_version;
};

// Prometheus text format, names prefixed meshnode_agent_.
std::string renderMetrics(const AgentMetrics& m);

}  // namespace meshnode::agent::status
