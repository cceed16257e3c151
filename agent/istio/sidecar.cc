#include "agent/istio/decode.h"

namespace meshnode::istio {
namespace {

std::optional<SidecarPort> decodePort(const YAML::Node& n, const std::string& p, FieldReader& r) {
  if (!r.isMap(n, p)) return std::nullopt;
  r.known(n, p, {"number", "protocol", "name", "targetPort"});
  r.notApplied(n, p, {"targetPort"});
  SidecarPort port;
  port.number = r.u32(n, p, "number", 1, 65535, true).value_or(0);
  port.protocol = r.str(n, p, "protocol").value_or("");
  for (char& c : port.protocol)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  port.name = r.str(n, p, "name").value_or("");
  return port;
}

bool validEgressHost(const std::string& h) {
  size_t slash = h.find('/');
  if (slash == std::string::npos || slash == 0 || h.find('/', slash + 1) != std::string::npos)
    return false;
  std::string ns = h.substr(0, slash), name = h.substr(slash + 1);
  bool ns_ok = ns == "*" || ns == "." || ns == "~" || isValidHost(ns, false);
  return ns_ok && (name == "*" || isValidHost(name, true));
}

}  // namespace

void decodeSidecar(const YAML::Node& spec, FieldReader& r, Sidecar* out) {
  const std::string p = "spec";
  r.known(
      spec, p,
      {"workloadSelector", "ingress", "egress", "outboundTrafficPolicy", "inboundConnectionPool"});
  r.notApplied(spec, p, {"inboundConnectionPool"});
  out->workload_selector = decodeWorkloadSelector(spec, r);
  if (const YAML::Node in = spec["ingress"]; in.IsDefined() && r.isSeq(in, p + ".ingress"))
    for (size_t i = 0; i < in.size(); ++i) {
      std::string ip = at(p + ".ingress", i);
      if (!r.isMap(in[i], ip)) continue;
      r.known(in[i], ip,
              {"port", "bind", "captureMode", "defaultEndpoint", "tls", "connectionPool"});
      r.notApplied(in[i], ip, {"bind", "captureMode", "tls", "connectionPool"});
      SidecarIngress ing;
      if (!in[i]["port"].IsDefined())
        r.error(in[i], ip + ".port", "is required");
      else if (auto port = decodePort(in[i]["port"], ip + ".port", r))
        ing.port = *port;
      ing.bind = r.str(in[i], ip, "bind").value_or("");
      ing.default_endpoint = r.str(in[i], ip, "defaultEndpoint").value_or("");
      if (!ing.default_endpoint.empty()) {
        const std::string& d = ing.default_endpoint;
        size_t colon = d.rfind(':');
        std::string host = colon == std::string::npos ? "" : d.substr(0, colon);
        std::string port = colon == std::string::npos ? "" : d.substr(colon + 1);
        if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
        bool ok = (host == "127.0.0.1" || host == "0.0.0.0" || host == "::1" || host == "::") &&
                  !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), ::isdigit) && std::stoi(port) > 0 &&
                  std::stoi(port) < 65536;
        if (!ok)
          r.error(in[i]["defaultEndpoint"], ip + ".defaultEndpoint",
                  "\"" + d + "\" must be 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT or [::]:PORT");
      }
      out->ingress.push_back(std::move(ing));
    }
  if (const YAML::Node eg = spec["egress"]; eg.IsDefined() && r.isSeq(eg, p + ".egress"))
    for (size_t i = 0; i < eg.size(); ++i) {
      std::string ep = at(p + ".egress", i);
      if (!r.isMap(eg[i], ep)) continue;
      r.known(eg[i], ep, {"port", "bind", "captureMode", "hosts"});
      r.notApplied(eg[i], ep, {"bind", "captureMode"});
      SidecarEgress e;
      if (eg[i]["port"].IsDefined()) e.port = decodePort(eg[i]["port"], ep + ".port", r);
      e.bind = r.str(eg[i], ep, "bind").value_or("");
      e.hosts = r.strings(eg[i], ep, "hosts");
      if (e.hosts.empty()) r.error(eg[i], ep + ".hosts", "is required");
      for (size_t k = 0; k < e.hosts.size(); ++k)
        if (!validEgressHost(e.hosts[k]))
          r.error(eg[i]["hosts"][k], at(ep + ".hosts", k),
                  "\"" + e.hosts[k] + "\" must be namespace/dnsName (namespace: name, *, . or ~)");
      out->egress.push_back(std::move(e));
    }
  if (const YAML::Node o = spec["outboundTrafficPolicy"];
      o.IsDefined() && r.isMap(o, p + ".outboundTrafficPolicy")) {
    r.known(o, p + ".outboundTrafficPolicy", {"mode", "egressProxy"});
    r.notApplied(o, p + ".outboundTrafficPolicy", {"egressProxy"});
    if (auto mode =
            r.choice(o, p + ".outboundTrafficPolicy", "mode", {"REGISTRY_ONLY", "ALLOW_ANY"}))
      out->registry_only = *mode == 0;
  }
}

}  // namespace meshnode::istio
