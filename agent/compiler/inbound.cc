#include "agent/compiler/inbound.h"

#include <algorithm>
#include <map>

#include "agent/compiler/registry.h"

namespace meshnode::compiler {
namespace {

using nlohmann::json;

struct InboundPort {
  uint32_t port = 0;
  std::string protocol;
  std::string endpoint_address = "127.0.0.1";
  uint32_t endpoint_port = 0;
};

}  // namespace

Result<ResolvedNode> resolveNode(const CompileInput& input) {
  ResolvedNode node;
  const auto& node_in = input.node;
  if (!node_in.workload_group.empty()) {
    for (const auto& g : input.resources->workload_groups)
      if (g.meta.ns == node_in.ns && g.meta.name == node_in.workload_group) node.group = &g;
    if (!node.group)
      return makeError(ErrorCode::kNotFound, Side::kConfig,
                       "workload group " + node_in.ns + "/" + node_in.workload_group +
                           " is not among the loaded resources");
    node.labels = node.group->labels;
    for (const auto& [k, v] : node.group->template_.labels)
      node.labels[k] = v;
  }
  for (const auto& [k, v] : node_in.labels)
    node.labels[k] = v;
  if (node.group) {
    bool registered =
        std::any_of(input.resources->workload_entries.begin(),
                    input.resources->workload_entries.end(), [&](const istio::WorkloadEntry& w) {
                      return w.meta.ns == node_in.ns && w.spec.address == node_in.ip;
                    });
    if (!registered) {
      istio::WorkloadEntry self;
      std::string ip = node_in.ip;
      std::replace(ip.begin(), ip.end(), '.', '-');
      std::replace(ip.begin(), ip.end(), ':', '-');
      self.meta.kind = "WorkloadEntry";
      self.meta.name = node_in.workload_group + "-" + ip;
      self.meta.ns = node_in.ns;
      self.spec = node.group->template_;
      self.spec.address = node_in.ip;
      self.spec.labels = node.labels;
      node.entries.push_back(std::move(self));
    }
  }
  return node;
}

void addInbound(const CompileInput& input, const ResolvedNode& node, json* http, json* tcp,
                json* clusters, std::vector<std::string>* warnings) {
  std::map<uint32_t, InboundPort> ports;
  const istio::Sidecar* sidecar = nullptr;
  for (const auto& s : input.resources->sidecars)
    if (s.meta.ns == input.node.ns && !s.ingress.empty() &&
        (!s.workload_selector || labelsMatch(*s.workload_selector, node.labels)) &&
        (!sidecar || (s.workload_selector && !sidecar->workload_selector)))
      sidecar = &s;

  if (sidecar) {
    // Sidecar ingress listeners replace the ports istiod would derive from services.
    for (const auto& in : sidecar->ingress) {
      InboundPort p;
      p.port = in.port.number;
      p.protocol = in.port.protocol.empty() ? protocolFromName(in.port.name) : in.port.protocol;
      p.endpoint_port = p.port;
      if (!in.default_endpoint.empty()) {
        size_t colon = in.default_endpoint.rfind(':');
        std::string host = in.default_endpoint.substr(0, colon);
        if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
        p.endpoint_address = host == "0.0.0.0" || host == "::" ? input.node.ip : host;
        p.endpoint_port = static_cast<uint32_t>(std::stoul(in.default_endpoint.substr(colon + 1)));
      }
      ports[p.port] = p;
    }
  } else {
    for (const auto& se : input.resources->service_entries) {
      if (se.meta.ns != input.node.ns || !se.workload_selector ||
          !labelsMatch(*se.workload_selector, node.labels))
        continue;
      for (const auto& sp : se.ports) {
        InboundPort p;
        p.port = sp.target_port ? sp.target_port : sp.number;
        if (node.group)
          if (auto it = node.group->template_.ports.find(sp.name);
              it != node.group->template_.ports.end())
            p.port = it->second;
        p.protocol = sp.protocol.empty() ? protocolFromName(sp.name) : sp.protocol;
        p.endpoint_port = p.port;
        ports.emplace(p.port, p);
      }
    }
    if (ports.empty() && node.group)
      for (const auto& [name, number] : node.group->template_.ports) {
        InboundPort p;
        p.port = p.endpoint_port = number;
        p.protocol = protocolFromName(name);
        ports.emplace(number, p);
      }
  }
  if (ports.empty() && !node.group)
    warnings->push_back("node: no service selects this node's labels; it serves no inbound ports");

  for (const auto& [number, p] : ports) {
    std::string name = "inbound|" + std::to_string(number) + "||";
    PortKind kind = portKind(p.protocol);
    json cluster = {{"name", name},
                    {"protocol", p.protocol == "HTTP2" || p.protocol == "GRPC" ? "http2"
                                 : p.protocol == "HTTP"                        ? "http1"
                                                                               : "downstream"},
                    {"endpoints", {{{"address", p.endpoint_address}, {"port", p.endpoint_port}}}}};
    clusters->push_back(cluster);
    if (kind == PortKind::kHttp || kind == PortKind::kAuto)
      http->push_back(
          {{"direction", "inbound"},
           {"port", number},
           {"virtual_hosts",
            {{{"name", "inbound|http|" + std::to_string(number)},
              {"domains", {"*"}},
              {"routes",
               {{{"name", "default"}, {"clusters", {{{"cluster", name}, {"weight", 100}}}}}}}}}}});
    if (kind != PortKind::kHttp)
      tcp->push_back({{"direction", "inbound"}, {"port", number}, {"cluster", name}});
  }
}

}  // namespace meshnode::compiler
