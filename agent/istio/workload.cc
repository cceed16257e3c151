#include "agent/istio/decode.h"

namespace meshnode::istio {

void decodeWorkloadEntry(const YAML::Node& doc, FieldReader& r, WorkloadEntry* out) {
  const YAML::Node spec = doc["spec"];
  decodeWorkloadSpec(spec, "spec", r, &out->spec);
  if (out->spec.address.empty())
    r.error(spec, "spec.address", "is required");
  else if (!isIp(out->spec.address) && !isValidHost(out->spec.address, false))
    r.error(spec["address"], "spec.address",
            "\"" + out->spec.address + "\" is neither an IP address nor a host name");
  // A registered host's health lives in status.conditions, as Istio's auto-registration writes.
  const YAML::Node status = doc["status"];
  const YAML::Node conditions = isMapNode(status) ? status["conditions"] : YAML::Node();
  if (isSeqNode(conditions))
    for (const auto& c : conditions)
      if (scalarAt(c, "type") == "Healthy" && !scalarAt(c, "status").empty())
        out->healthy = scalarAt(c, "status") != "False";
}

namespace {

std::optional<WorkloadProbe> decodeProbe(const YAML::Node& n, const std::string& p,
                                         FieldReader& r) {
  if (!r.isMap(n, p)) return std::nullopt;
  r.known(n, p,
          {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
           "failureThreshold", "httpGet", "tcpSocket", "exec", "grpc"});
  WorkloadProbe probe;
  probe.initial_delay_seconds = r.u32(n, p, "initialDelaySeconds", 0, 86400).value_or(0);
  probe.timeout_seconds = r.u32(n, p, "timeoutSeconds", 1, 86400).value_or(1);
  probe.period_seconds = r.u32(n, p, "periodSeconds", 1, 86400).value_or(10);
  probe.success_threshold = r.u32(n, p, "successThreshold", 1, 86400).value_or(1);
  probe.failure_threshold = r.u32(n, p, "failureThreshold", 1, 86400).value_or(3);
  if (n["grpc"].IsDefined()) {
    r.error(n["grpc"], p + ".grpc", "gRPC probes are not supported by meshnode");
    return std::nullopt;
  }
  int actions = 0;
  for (const char* key : {"httpGet", "tcpSocket", "exec"})
    actions += n[key].IsDefined() ? 1 : 0;
  if (actions != 1) {
    r.error(n, p, "needs exactly one of httpGet, tcpSocket and exec");
    return std::nullopt;
  }
  if (const YAML::Node h = n["httpGet"]; h.IsDefined()) {
    std::string hp = p + ".httpGet";
    if (!r.isMap(h, hp)) return std::nullopt;
    r.known(h, hp, {"path", "port", "host", "scheme", "httpHeaders"});
    probe.action = WorkloadProbe::Action::kHttpGet;
    probe.port = r.u32(h, hp, "port", 1, 65535, true).value_or(0);
    probe.host = r.str(h, hp, "host").value_or("");
    probe.path = r.str(h, hp, "path").value_or("/");
    if (probe.path.empty() || probe.path.front() != '/' ||
        probe.path.find_first_of("\r\n ") != std::string::npos)
      r.error(h["path"], hp + ".path", "must start with '/' and hold no spaces or line breaks");
    probe.scheme = r.str(h, hp, "scheme").value_or("HTTP");
    if (probe.scheme != "HTTP" && probe.scheme != "HTTPS")
      r.error(h["scheme"], hp + ".scheme", "must be HTTP or HTTPS, not \"" + probe.scheme + "\"");
    if (const YAML::Node hs = h["httpHeaders"];
        hs.IsDefined() && !hs.IsNull() && r.isSeq(hs, hp + ".httpHeaders"))
      for (size_t i = 0; i < hs.size(); ++i) {
        std::string ip = at(hp + ".httpHeaders", i);
        if (!r.isMap(hs[i], ip)) continue;
        r.known(hs[i], ip, {"name", "value"});
        std::string name = r.str(hs[i], ip, "name", true).value_or("");
        std::string value = r.str(hs[i], ip, "value").value_or("");
        if (name.find_first_of(":\r\n ") != std::string::npos)
          r.error(hs[i]["name"], ip + ".name", "\"" + name + "\" is not a header name");
        if (value.find_first_of("\r\n") != std::string::npos)
          r.error(hs[i]["value"], ip + ".value", "must be a single line");
        probe.http_headers.emplace_back(name, value);
      }
  } else if (const YAML::Node t = n["tcpSocket"]; t.IsDefined()) {
    std::string tp = p + ".tcpSocket";
    if (!r.isMap(t, tp)) return std::nullopt;
    r.known(t, tp, {"host", "port"});
    probe.action = WorkloadProbe::Action::kTcpSocket;
    probe.port = r.u32(t, tp, "port", 1, 65535, true).value_or(0);
    probe.host = r.str(t, tp, "host").value_or("");
  } else {
    const YAML::Node e = n["exec"];
    std::string ep = p + ".exec";
    if (!r.isMap(e, ep)) return std::nullopt;
    r.known(e, ep, {"command"});
    probe.action = WorkloadProbe::Action::kExec;
    probe.command = r.strings(e, ep, "command");
    if (probe.command.empty()) r.error(e, ep + ".command", "must be a non-empty list of strings");
  }
  return probe;
}

}  // namespace

void decodeWorkloadGroup(const YAML::Node& spec, FieldReader& r, WorkloadGroup* out) {
  const std::string p = "spec";
  r.known(spec, p, {"metadata", "template", "probe"});
  if (const YAML::Node m = spec["metadata"]; m.IsDefined() && r.isMap(m, p + ".metadata")) {
    r.known(m, p + ".metadata", {"labels", "annotations"});
    out->labels = r.labels(m, p + ".metadata", "labels");
  }
  const YAML::Node t = spec["template"];
  if (!t.IsDefined()) {
    r.error(spec, p + ".template", "is required");
    return;
  }
  decodeWorkloadSpec(t, p + ".template", r, &out->template_);
  if (const YAML::Node probe = spec["probe"]; probe.IsDefined() && !probe.IsNull())
    out->probe = decodeProbe(probe, p + ".probe", r);
  if (!out->template_.address.empty())
    r.warn(t["address"], p + ".template.address",
           "is ignored; each registered host supplies its own address");
}

}  // namespace meshnode::istio
