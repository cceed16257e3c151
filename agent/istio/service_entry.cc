#include <set>

#include <arpa/inet.h>

#include "agent/istio/decode.h"

namespace meshnode::istio {

bool isIp(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

bool isIpOrCidr(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return isIp(text);
  std::string bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit))
    return false;
  std::string addr = text.substr(0, slash);
  int max = addr.find(':') == std::string::npos ? 32 : 128;
  return isIp(addr) && std::stoi(bits) <= max;
}

bool isValidHost(const std::string& host, bool allow_wildcard) {
  if (host.empty() || host.size() > 253) return false;
  std::string rest = host;
  if (host[0] == '*') {
    if (!allow_wildcard) return false;
    if (host == "*") return true;
    if (host.size() < 3 || host[1] != '.') return false;
    rest = host.substr(2);
  }
  size_t start = 0;
  while (start <= rest.size()) {
    size_t dot = rest.find('.', start);
    std::string label =
        rest.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

std::optional<Labels> decodeWorkloadSelector(const YAML::Node& spec, FieldReader& r) {
  const YAML::Node ws = spec["workloadSelector"];
  if (!ws.IsDefined() || ws.IsNull()) return std::nullopt;
  if (!r.isMap(ws, "spec.workloadSelector")) return std::nullopt;
  r.known(ws, "spec.workloadSelector", {"labels"});
  return r.labels(ws, "spec.workloadSelector", "labels");
}

void decodeWorkloadSpec(const YAML::Node& n, const std::string& p, FieldReader& r,
                        WorkloadSpec* out) {
  if (!r.isMap(n, p)) return;
  r.known(n, p, {"address", "ports", "labels", "network", "locality", "weight", "serviceAccount"});
  out->address = r.str(n, p, "address").value_or("");
  out->labels = r.labels(n, p, "labels");
  out->network = r.str(n, p, "network").value_or("");
  out->locality = r.str(n, p, "locality").value_or("");
  out->service_account = r.str(n, p, "serviceAccount").value_or("");
  out->weight = r.u32(n, p, "weight", 0, 1000000).value_or(0);
  if (const YAML::Node ports = n["ports"]; ports.IsDefined() && r.isMap(ports, p + ".ports"))
    for (const auto& kv : ports) {
      uint32_t v = 0;
      if (!kv.second.IsScalar() || !YAML::convert<uint32_t>::decode(kv.second, v) || v == 0 ||
          v > 65535)
        r.error(kv.second, p + ".ports." + kv.first.Scalar(), "must be a port from 1 to 65535");
      else
        out->ports[kv.first.Scalar()] = v;
    }
}

void decodeServiceEntry(const YAML::Node& spec, FieldReader& r, ServiceEntry* out) {
  const std::string p = "spec";
  r.known(spec, p,
          {"hosts", "addresses", "ports", "location", "resolution", "endpoints", "workloadSelector",
           "exportTo", "subjectAltNames"});
  out->hosts = r.strings(spec, p, "hosts");
  if (out->hosts.empty()) r.error(spec, p + ".hosts", "is required");
  bool wildcard = false;
  for (size_t i = 0; i < out->hosts.size(); ++i) {
    const std::string& h = out->hosts[i];
    if (h == "*")
      r.error(spec["hosts"][i], at(p + ".hosts", i), "\"*\" is not allowed; name the hosts");
    else if (!isValidHost(h, true))
      r.error(spec["hosts"][i], at(p + ".hosts", i), "\"" + h + "\" is not a valid host name");
    wildcard = wildcard || h[0] == '*';
  }
  out->addresses = r.strings(spec, p, "addresses");
  for (size_t i = 0; i < out->addresses.size(); ++i)
    if (!isIpOrCidr(out->addresses[i]))
      r.error(spec["addresses"][i], at(p + ".addresses", i),
              "\"" + out->addresses[i] + "\" is not an address or CIDR");
  out->export_to = r.strings(spec, p, "exportTo");
  out->subject_alt_names = r.strings(spec, p, "subjectAltNames");
  if (auto loc = r.choice(spec, p, "location", {"MESH_EXTERNAL", "MESH_INTERNAL"}))
    out->location = static_cast<ServiceEntry::Location>(*loc);
  if (auto res = r.choice(spec, p, "resolution", {"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"}))
    out->resolution = static_cast<ServiceEntry::Resolution>(*res);

  const YAML::Node ports = spec["ports"];
  if (!ports.IsDefined() || ports.IsNull()) {
    r.error(spec, p + ".ports", "is required");
  } else if (r.isSeq(ports, p + ".ports")) {
    std::set<uint32_t> numbers;
    std::set<std::string> names;
    for (size_t i = 0; i < ports.size(); ++i) {
      std::string pp = at(p + ".ports", i);
      if (!r.isMap(ports[i], pp)) continue;
      r.known(ports[i], pp, {"number", "protocol", "name", "targetPort"});
      ServicePort sp;
      sp.number = r.u32(ports[i], pp, "number", 1, 65535, true).value_or(0);
      sp.name = r.str(ports[i], pp, "name", true).value_or("");
      sp.protocol = r.str(ports[i], pp, "protocol").value_or("");
      for (char& c : sp.protocol)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      static const std::set<std::string> kProtocols = {"HTTP", "HTTPS", "HTTP2", "GRPC",  "TCP",
                                                       "TLS",  "MONGO", "MYSQL", "REDIS", "UDP"};
      if (!sp.protocol.empty() && !kProtocols.count(sp.protocol))
        r.error(ports[i]["protocol"], pp + ".protocol",
                "\"" + sp.protocol + "\" is not one of HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO");
      sp.target_port = r.u32(ports[i], pp, "targetPort", 1, 65535).value_or(0);
      if (sp.number && !numbers.insert(sp.number).second)
        r.error(ports[i]["number"], pp + ".number",
                "port " + std::to_string(sp.number) + " is listed twice");
      if (!sp.name.empty() && !names.insert(sp.name).second)
        r.error(ports[i]["name"], pp + ".name", "port name \"" + sp.name + "\" is listed twice");
      out->ports.push_back(std::move(sp));
    }
    if (out->ports.empty()) r.error(ports, p + ".ports", "needs at least one port");
  }

  if (const YAML::Node eps = spec["endpoints"]; eps.IsDefined() && r.isSeq(eps, p + ".endpoints"))
    for (size_t i = 0; i < eps.size(); ++i) {
      WorkloadSpec w;
      decodeWorkloadSpec(eps[i], at(p + ".endpoints", i), r, &w);
      if (w.address.empty())
        r.error(eps[i], at(p + ".endpoints", i) + ".address", "is required");
      else if (out->resolution == ServiceEntry::Resolution::kStatic && !isIp(w.address))
        r.error(eps[i]["address"], at(p + ".endpoints", i) + ".address",
                "\"" + w.address + "\" must be an IP address with resolution STATIC");
      for (const auto& port : w.ports) {
        const std::string& name = port.first;
        if (std::none_of(out->ports.begin(), out->ports.end(),
                         [&](const ServicePort& sp) { return sp.name == name; }))
          r.warn(eps[i]["ports"][name], at(p + ".endpoints", i) + ".ports." + name,
                 "names no port of the service entry");
      }
      out->endpoints.push_back(std::move(w));
    }
  out->workload_selector = decodeWorkloadSelector(spec, r);
  if (out->workload_selector && !out->endpoints.empty())
    r.error(spec["workloadSelector"], p + ".workloadSelector", "cannot be used with endpoints");
  using Res = ServiceEntry::Resolution;
  if (out->resolution == Res::kStatic && out->endpoints.empty() && !out->workload_selector)
    r.error(spec, p + ".endpoints", "resolution STATIC needs endpoints or a workloadSelector");
  if ((out->resolution == Res::kDns || out->resolution == Res::kDnsRoundRobin) && wildcard &&
      out->endpoints.empty())
    r.error(spec["resolution"], p + ".resolution",
            "DNS resolution of a wildcard host needs endpoints");
  if (out->resolution == Res::kDnsRoundRobin && out->endpoints.size() > 1)
    r.error(spec["endpoints"], p + ".endpoints", "DNS_ROUND_ROBIN takes at most one endpoint");
}

}  // namespace meshnode::istio
