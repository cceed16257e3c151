#include "agent/compiler/compiler.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "agent/compiler/cluster.h"
#include "agent/compiler/inbound.h"
#include "agent/compiler/registry.h"
#include "agent/compiler/route.h"
#include "agent/compiler/security.h"

namespace meshnode::compiler {
namespace {

using nlohmann::json;

// FNV-1a: a stable digest so that a snapshot's version changes exactly when its content does.
std::string digest(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

Result<CompileOutput> compileSnapshot(const CompileInput& input) {
  if (!input.resources)
    return makeError(ErrorCode::kInvalidArgument, Side::kInternal, "compile: no resources");
  if (!isIpAddress(input.node.ip))
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "node ip: \"" + input.node.ip + "\" is not a numeric IP address");
  CompileOutput out;
  auto node = resolveNode(input);
  if (!node) return Error(node.error());

  Registry registry(input, node->labels, node->entries, &out.warnings);
  std::set<std::string> referenced;
  RouteBuilder routes(input, registry, node->labels, &referenced, &out.warnings);
  ClusterBuilder clusters(input, registry, &out.warnings);
  const bool registry_only = registry.scope().registry_only;

  json doc = {{"schema", 1}};
  doc["listeners"] = {{{"name", "virtualOutbound"},
                       {"direction", "outbound"},
                       {"address", "0.0.0.0"},
                       {"port", 15001},
                       {"use_original_dst", true},
                       {"unmatched", registry_only ? "refuse" : "passthrough"}},
                      {{"name", "virtualInbound"},
                       {"direction", "inbound"},
                       {"address", "0.0.0.0"},
                       {"port", 15006},
                       {"use_original_dst", true},
                       {"unmatched", "passthrough"}}};

  // Outbound: one HTTP route table per port, TCP/TLS routes per service port.
  std::map<uint32_t, json> tables;
  std::map<uint32_t, std::set<std::string>> domains_taken;
  json tcp = json::array();
  json cluster_list = json::array();
  for (const auto& service : registry.services()) {
    clusters.addServiceClusters(service, &cluster_list);
    for (const auto& port : service.ports) {
      PortKind kind = portKind(port.protocol);
      if (kind == PortKind::kHttp || kind == PortKind::kAuto) {
        json vh = routes.virtualHost(service, port);
        // A domain belongs to the first service that claims it on a port, as in Envoy's RDS
        // where duplicates are rejected.
        json kept = json::array();
        for (const auto& d : vh["domains"])
          if (domains_taken[port.number].insert(d.get<std::string>()).second) kept.push_back(d);
        if (kept.empty()) {
          out.warnings.push_back("service " + service.hostname + " port " +
                                 std::to_string(port.number) +
                                 ": every domain is taken by another service; not routed");
          continue;
        }
        vh["domains"] = kept;
        tables[port.number].push_back(std::move(vh));
      }
      if (kind != PortKind::kHttp) routes.tcpRoutes(service, port, &tcp);
    }
  }
  json http = json::array();
  for (auto& [port, vhosts] : tables) {
    // Requests for hosts the registry does not know: passthrough or 502, per the traffic policy.
    if (registry_only)
      vhosts.push_back(
          {{"name", "block_all"},
           {"domains", {"*"}},
           {"routes", {{{"name", "block_all"}, {"direct_response", {{"status", 502}}}}}}});
    else
      vhosts.push_back(
          {{"name", "allow_any"},
           {"domains", {"*"}},
           {"routes",
            {{{"name", "allow_any"},
              {"clusters", {{{"cluster", "PassthroughCluster"}, {"weight", 100}}}}}}}});
    http.push_back({{"direction", "outbound"}, {"port", port}, {"virtual_hosts", vhosts}});
  }

  addInbound(input, *node, &http, &tcp, &cluster_list, &out.warnings);

  // More specific TCP routes first: SNI, then destination addresses, then the whole port.
  std::stable_sort(tcp.begin(), tcp.end(), [](const json& a, const json& b) {
    auto rank = [](const json& r) {
      return r.contains("sni") ? 0 : r.contains("destinations") ? 1 : 2;
    };
    return rank(a) < rank(b);
  });

  cluster_list.push_back({{"name", "PassthroughCluster"}, {"type", "original_dst"}});
  cluster_list.push_back({{"name", "InboundPassthroughCluster"}, {"type", "original_dst"}});
  cluster_list.push_back({{"name", "BlackHoleCluster"}, {"endpoints", json::array()}});
  std::set<std::string> names;
  for (const auto& c : cluster_list)
    names.insert(c["name"].get<std::string>());
  // Routes may name destinations the registry lacks (an unknown host or subset); Envoy answers
  // those with 503, which an empty cluster gives too.
  for (const auto& name : referenced)
    if (!names.count(name)) {
      cluster_list.push_back({{"name", name}, {"endpoints", json::array()}});
      names.insert(name);
    }
  std::sort(cluster_list.begin(), cluster_list.end(),
            [](const json& a, const json& b) { return a["name"] < b["name"]; });

  doc["http_routes"] = http;
  doc["tcp_routes"] = tcp;
  doc["clusters"] = cluster_list;
  auto security = compileSecurity(input, node->labels, &out.warnings);
  if (!security) return Error(security.error());
  doc["security"] = std::move(*security);
  out.version = digest(doc.dump());
  doc["version"] = out.version;
  out.json = doc.dump(2) + "\n";
  return out;
}

}  // namespace meshnode::compiler
