#include <algorithm>

#include "agent/compiler/cluster.h"
#include "agent/compiler/route.h"

// Outbound TCP and TLS routes: VirtualService tcp[] and tls[] rules, or a route per service port.
namespace meshnode::compiler {

using nlohmann::json;

void RouteBuilder::tcpRoutes(const Service& service, const istio::ServicePort& port,
                             json* out) const {
  std::vector<std::string> vips;
  for (const auto& a : service.addresses)
    vips.push_back(a);
  PortKind kind = portKind(port.protocol);
  auto emit = [&](const std::vector<istio::RouteDestination>& dests, const std::string& ns,
                  std::vector<std::string> destinations, std::vector<std::string> sni,
                  const std::string& context) {
    json r = {{"direction", "outbound"}, {"port", port.number}};
    if (!destinations.empty()) r["destinations"] = destinations;
    if (!sni.empty()) r["sni"] = sni;
    json weighted = json::array();
    std::string heaviest;
    uint32_t heaviest_weight = 0;
    for (size_t i = 0; i < dests.size(); ++i) {
      uint32_t w = dests[i].weight.value_or(dests.size() == 1 ? 100 : 0);
      if (w == 0 && dests.size() > 1) continue;
      std::string c = destinationCluster(dests[i].destination, ns, port.number,
                                         context + ".route[" + std::to_string(i) + "]");
      weighted.push_back({{"cluster", c}, {"weight", w ? w : 100}});
      if (heaviest.empty() || w > heaviest_weight) heaviest = c, heaviest_weight = w;
    }
    r["cluster"] = heaviest;
    if (weighted.size() > 1) r["weighted_clusters"] = weighted;
    out->push_back(r);
  };

  const istio::VirtualService* vs = virtualServiceFor(service.hostname);
  bool routed = false;
  if (vs && kind == PortKind::kTls) {
    for (size_t i = 0; i < vs->tls.size(); ++i)
      for (const auto& m : vs->tls[i].match)
        if (applies(m.gateways, m.source_labels, m.source_namespace, m.port, port.number)) {
          std::vector<std::string> snis;
          for (const auto& s : m.sni_hosts)
            if (hostMatches(s, service.hostname) || hostMatches(service.hostname, s))
              snis.push_back(s);
          if (snis.empty()) continue;
          emit(vs->tls[i].route, vs->meta.ns,
               m.destination_subnets.empty() ? vips : m.destination_subnets, snis,
               where(*vs) + ": spec.tls[" + std::to_string(i) + "]");
          routed = true;
        }
  }
  if (vs && !routed && kind != PortKind::kHttp) {
    for (size_t i = 0; i < vs->tcp.size() && !routed; ++i) {
      const auto& t = vs->tcp[i];
      std::string context = where(*vs) + ": spec.tcp[" + std::to_string(i) + "]";
      if (t.match.empty()) {
        emit(t.route, vs->meta.ns, vips, {}, context);
        routed = true;
        continue;
      }
      for (const auto& m : t.match)
        if (applies(m.gateways, m.source_labels, m.source_namespace, m.port, port.number)) {
          emit(t.route, vs->meta.ns, m.destination_subnets.empty() ? vips : m.destination_subnets,
               {}, context);
          // A match without subnets catches the rest of the port; later rules never apply.
          routed = routed || m.destination_subnets.empty();
        }
    }
  }
  if (!routed) {
    istio::RouteDestination d;
    d.destination.host = service.hostname;
    d.destination.port = port.number;
    std::vector<std::string> sni;
    if (kind == PortKind::kTls && vips.empty()) sni.push_back(service.hostname);
    emit({d}, service.ns, vips, sni, "service " + service.hostname);
  }
}

}  // namespace meshnode::compiler
