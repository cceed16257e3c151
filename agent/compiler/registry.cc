#include "agent/compiler/registry.h"

#include <algorithm>

#include <arpa/inet.h>

namespace meshnode::compiler {

PortKind portKind(const std::string& protocol) {
  if (protocol == "HTTP" || protocol == "HTTP2" || protocol == "GRPC") return PortKind::kHttp;
  if (protocol == "TLS" || protocol == "HTTPS") return PortKind::kTls;
  if (protocol.empty()) return PortKind::kAuto;
  return PortKind::kTcp;
}

std::string protocolFromName(const std::string& name) {
  std::string prefix = name.substr(0, name.find('-'));
  for (char& c : prefix)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const char* kKnown[] = {"HTTP", "HTTP2", "GRPC", "HTTPS", "TLS", "TCP", "MONGO"};
  for (const char* k : kKnown)
    if (prefix == k) return prefix;
  return "";
}

bool isIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

constexpr const char* kTlsModeLabel = "security.istio.io/tlsMode";

bool labelsMatch(const istio::Labels& selector, const istio::Labels& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

bool hostMatches(const std::string& pattern, const std::string& host) {
  if (pattern == "*" || pattern == host) return true;
  if (pattern.size() > 1 && pattern[0] == '*') {
    std::string suffix = pattern.substr(1);  // ".example.com"
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
    // A wildcard service host is covered by an equal or wider wildcard pattern.
    if (host[0] == '*' && host.size() >= suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

namespace {

const istio::Sidecar* selectSidecar(const CompileInput& in, const istio::Labels& labels) {
  const auto& all = in.resources->sidecars;
  for (const auto& s : all)
    if (s.meta.ns == in.node.ns && s.workload_selector && labelsMatch(*s.workload_selector, labels))
      return &s;
  for (const auto& s : all)
    if (s.meta.ns == in.node.ns && !s.workload_selector) return &s;
  for (const auto& s : all)
    if (s.meta.ns == in.options.root_namespace && !s.workload_selector) return &s;
  return nullptr;
}

uint32_t instancePort(const istio::WorkloadSpec& w, const istio::ServicePort& p) {
  if (auto it = w.ports.find(p.name); it != w.ports.end()) return it->second;
  return p.target_port ? p.target_port : p.number;
}

}  // namespace

Registry::Registry(const CompileInput& input, const istio::Labels& node_labels,
                   const std::vector<istio::WorkloadEntry>& extra_entries,
                   std::vector<std::string>* warnings)
    : input_(input) {
  scope_.sidecar = selectSidecar(input, node_labels);
  scope_.registry_only = input.options.registry_only;
  if (scope_.sidecar && scope_.sidecar->registry_only)
    scope_.registry_only = *scope_.sidecar->registry_only;

  std::vector<const istio::WorkloadEntry*> entries;
  for (const auto& w : input.resources->workload_entries)
    entries.push_back(&w);
  for (const auto& w : extra_entries)
    entries.push_back(&w);

  // Entries of the node's own namespace win a host name claimed twice, as in istiod.
  std::vector<const istio::ServiceEntry*> ses;
  for (const auto& se : input.resources->service_entries)
    ses.push_back(&se);
  std::stable_sort(ses.begin(), ses.end(), [&](const auto* a, const auto* b) {
    bool la = a->meta.ns == input.node.ns, lb = b->meta.ns == input.node.ns;
    if (la != lb) return la;
    return a->meta.id() < b->meta.id();
  });

  for (const auto* se : ses) {
    if (!exported(se->export_to, se->meta.ns)) continue;
    for (const auto& host : se->hosts) {
      if (!inEgress(se->meta.ns, host)) continue;
      if (by_host_.count(host)) {
        warnings->push_back(se->meta.file + ":" + std::to_string(se->meta.line) +
                            ": ServiceEntry " + se->meta.id() + ": host " + host +
                            " is already defined by another service entry; this one is ignored");
        continue;
      }
      Service s;
      s.hostname = host;
      s.ns = se->meta.ns;
      s.addresses = se->addresses;
      for (const auto& p : se->ports)
        if (inEgress(se->meta.ns, host, p.number)) s.ports.push_back(p);
      if (s.ports.empty()) continue;
      for (auto& p : s.ports)
        if (p.protocol.empty()) p.protocol = protocolFromName(p.name);
      std::sort(s.ports.begin(), s.ports.end(),
                [](const auto& a, const auto& b) { return a.number < b.number; });
      s.entry = se;
      using Res = istio::ServiceEntry::Resolution;
      std::vector<istio::WorkloadSpec> workloads = se->endpoints;
      if (se->workload_selector) {
        for (const auto* we : entries)
          if (we->meta.ns == se->meta.ns && we->healthy &&
              labelsMatch(*se->workload_selector, we->spec.labels))
            workloads.push_back(we->spec);
      }
      s.original_dst = se->resolution == Res::kNone && workloads.empty() && !se->workload_selector;
      bool dns = se->resolution == Res::kDns || se->resolution == Res::kDnsRoundRobin;
      if (dns && workloads.empty() && host[0] != '*') {
        istio::WorkloadSpec self;
        self.address = host;
        workloads.push_back(self);
      }
      for (const auto& port : s.ports) {
        auto& list = s.instances[port.number];
        for (const auto& w : workloads) {
          Instance inst;
          inst.address = w.address;
          inst.port = instancePort(w, port);
          inst.labels = w.labels;
          // istiod's rule for workload entries: a workload with a service account runs a
          // mesh proxy, so auto mTLS applies to it unless its label says otherwise.
          if (!w.service_account.empty() && !inst.labels.count(kTlsModeLabel))
            inst.labels[kTlsModeLabel] = "istio";
          inst.weight = w.weight ? w.weight : 1;
          inst.locality = w.locality;
          inst.network = w.network;
          list.push_back(std::move(inst));
        }
      }
      by_host_[host] = 0;
      services_.push_back(std::move(s));
    }
  }
  std::sort(services_.begin(), services_.end(),
            [](const Service& a, const Service& b) { return a.hostname < b.hostname; });
  for (size_t i = 0; i < services_.size(); ++i)
    by_host_[services_[i].hostname] = i;
}

const Service* Registry::find(const std::string& hostname) const {
  auto it = by_host_.find(hostname);
  return it == by_host_.end() ? nullptr : &services_[it->second];
}

bool Registry::exported(const std::vector<std::string>& export_to, const std::string& ns) const {
  if (export_to.empty()) return true;
  for (const auto& e : export_to) {
    if (e == "*" || e == input_.node.ns) return true;
    if (e == "." && ns == input_.node.ns) return true;
  }
  return false;
}

bool Registry::inEgress(const std::string& ns, const std::string& host, uint32_t port) const {
  if (!scope_.sidecar || scope_.sidecar->egress.empty()) return true;
  const auto& egress = scope_.sidecar->egress;
  bool port_owned = port && std::any_of(egress.begin(), egress.end(), [&](const auto& e) {
                      return e.port && e.port->number == port;
                    });
  for (const auto& eg : egress) {
    if (port && eg.port && eg.port->number != port) continue;
    if (port && !eg.port && port_owned) continue;
    for (const auto& h : eg.hosts) {
      size_t slash = h.find('/');
      std::string hns = h.substr(0, slash), hname = h.substr(slash + 1);
      bool ns_ok = hns == "*" || (hns == "." && ns == scope_.sidecar->meta.ns) || hns == ns;
      if (ns_ok && hostMatches(hname, host)) return true;
    }
  }
  return false;
}

std::string Registry::qualify(const std::string& host, const std::string& ns) const {
  if (host.empty() || host[0] == '*' || host.find('.') != std::string::npos) return host;
  return host + "." + ns + ".svc." + input_.options.domain_suffix;
}

}  // namespace meshnode::compiler
