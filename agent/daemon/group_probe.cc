#include "agent/daemon/group_probe.h"

#include "agent/istio/loader.h"

namespace meshnode::agent::daemon {

Probe toProbe(const istio::WorkloadProbe& in) {
  Probe out;
  out.initial_delay_seconds = in.initial_delay_seconds;
  out.period_seconds = in.period_seconds;
  out.timeout_seconds = in.timeout_seconds;
  out.success_threshold = in.success_threshold;
  out.failure_threshold = in.failure_threshold;
  switch (in.action) {
    case istio::WorkloadProbe::Action::kHttpGet: {
      HttpGetAction a;
      a.host = in.host;
      a.port = static_cast<uint16_t>(in.port);
      a.path = in.path;
      a.scheme = in.scheme;
      a.headers = in.http_headers;
      out.action = std::move(a);
      break;
    }
    case istio::WorkloadProbe::Action::kTcpSocket:
      out.action = TcpSocketAction{in.host, static_cast<uint16_t>(in.port)};
      break;
    case istio::WorkloadProbe::Action::kExec:
      out.action = ExecAction{in.command};
      break;
  }
  return out;
}

Result<std::optional<Probe>> groupProbe(const istio::Resources& resources,
                                        const std::vector<std::string>& load_errors,
                                        const std::string& group, const std::string& name_space) {
  for (const auto& g : resources.workload_groups)
    if (g.meta.name == group && g.meta.ns == name_space)
      return g.probe ? std::optional<Probe>(toProbe(*g.probe)) : std::optional<Probe>();
  // Not loaded: when the group was rejected, its first error says why (a bad probe, say).
  const std::string subject = ": WorkloadGroup " + name_space + "/" + group + ":";
  for (const auto& e : load_errors)
    if (e.find(subject) != std::string::npos)
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig, e);
  return std::optional<Probe>();
}

Result<std::optional<Probe>> findGroupProbe(const std::string& directory, const std::string& group,
                                            const std::string& name_space) {
  istio::Resources resources;
  istio::LoadReport report;
  if (Status st = istio::loadDirectory(directory, &resources, &report); !st)
    return std::optional<Probe>();  // the mesh loader reports an unreadable directory
  return groupProbe(resources, report.errors, group, name_space);
}

}  // namespace meshnode::agent::daemon
