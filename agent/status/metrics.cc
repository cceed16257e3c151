#include "agent/status/metrics.h"

namespace meshnode::agent::status {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, uint64_t value,
            const std::string& labels = "") {
  out += std::string("# HELP meshnode_agent_") + name + " " + help + "\n";
  out += std::string("# TYPE meshnode_agent_") + name + " " + type + "\n";
  out += std::string("meshnode_agent_") + name + labels + " " + std::to_string(value) + "\n";
}

}  // namespace

std::string renderMetrics(const AgentMetrics& m) {
  std::string out;
  metric(out, "proxy_restarts_total", "counter", "Times the proxy was restarted after it exited.",
         m.proxy_restarts);
  metric(out, "proxy_up", "gauge", "1 while the proxy process runs.", m.proxy_up);
  metric(out, "proxy_crash_looping", "gauge",
         "1 while the proxy exits repeatedly (3 exits within 60 s).", m.proxy_crash_looping);
  metric(out, "ready", "gauge", "1 once the agent reported READY and the proxy is ready.", m.ready);
  metric(out, "snapshots_applied_total", "counter", "Snapshots written and signalled to the proxy.",
         m.snapshots_applied);
  metric(out, "snapshot_compile_errors_total", "counter",
         "Compiles that failed; the last good snapshot kept serving.", m.snapshot_compile_errors);
  metric(out, "config_source_errors_total", "counter",
         "Times the config directory could not be read.", m.config_source_errors);
  metric(out, "dns_lookup_failures_total", "counter",
         "ServiceEntry host lookups that failed; last good addresses kept.", m.dns_lookup_failures);
  metric(out, "dns_answer_changes_total", "counter",
         "ServiceEntry host lookups whose addresses changed.", m.dns_answer_changes);
  metric(out, "snapshot_info", "gauge", "The snapshot version being served.", 1,
         "{version=\"" + m.snapshot_version + "\"}");
  return out;
}

}  // namespace meshnode::agent::status
