#include "agent/compiler/cluster.h"

#include <algorithm>

namespace meshnode::compiler {
namespace {

using istio::PolicyParts;
using nlohmann::json;

// Istio merges policy levels part by part: a part set at a narrower level replaces the wider one.
void overlay(const PolicyParts& from, PolicyParts* into) {
  if (from.load_balancer) into->load_balancer = from.load_balancer;
  if (from.connection_pool) into->connection_pool = from.connection_pool;
  if (from.outlier_detection) into->outlier_detection = from.outlier_detection;
  if (from.tls) into->tls = from.tls;
}

void overlayPolicy(const istio::TrafficPolicy& tp, uint32_t port, PolicyParts* into) {
  overlay(tp, into);
  for (const auto& [p, parts] : tp.port_level)
    if (p == port) overlay(parts, into);
}

uint64_t cap(uint64_t v, uint64_t max) {
  return std::min(v, max);
}

std::string upstreamProtocol(const std::string& protocol) {
  if (protocol == "HTTP2" || protocol == "GRPC") return "http2";
  if (protocol == "HTTP") return "http1";
  return "downstream";
}

}  // namespace

std::string outboundClusterName(uint32_t port, const std::string& subset, const std::string& host) {
  return "outbound|" + std::to_string(port) + "|" + subset + "|" + host;
}

const istio::DestinationRule* ClusterBuilder::ruleFor(const Service& service) const {
  const istio::DestinationRule* best = nullptr;
  int best_rank = 0;
  size_t best_len = 0;
  for (const auto& dr : input_.resources->destination_rules) {
    int rank;
    if (dr.meta.ns == input_.node.ns)
      rank = 0;
    else if (dr.meta.ns == service.ns)
      rank = 1;
    else if (dr.meta.ns == input_.options.root_namespace)
      rank = 2;
    else
      continue;
    if (!registry_.exported(dr.export_to, dr.meta.ns)) continue;
    if (dr.workload_selector && (dr.meta.ns != input_.node.ns || rank != 0)) continue;
    std::string host = registry_.qualify(dr.host, dr.meta.ns);
    if (!hostMatches(host, service.hostname)) continue;
    // An exact host beats a wildcard; a longer wildcard beats a shorter one.
    size_t len = host == service.hostname ? SIZE_MAX : host.size();
    if (!best || rank < best_rank || (rank == best_rank && len > best_len))
      best = &dr, best_rank = rank, best_len = len;
  }
  return best;
}

json ClusterBuilder::cluster(const Service& service, const istio::ServicePort& port,
                             const istio::Subset* subset,
                             const istio::DestinationRule* rule) const {
  PolicyParts policy;
  if (rule && rule->traffic_policy) overlayPolicy(*rule->traffic_policy, port.number, &policy);
  if (subset && subset->traffic_policy)
    overlayPolicy(*subset->traffic_policy, port.number, &policy);

  std::string name = outboundClusterName(port.number, subset ? subset->name : "", service.hostname);
  json c = {{"name", name}, {"protocol", upstreamProtocol(port.protocol)}};
  // istiod's mesh-wide default connect timeout.
  c["connect_timeout_ms"] = 10000;
  std::string lb = "least_request";
  bool passthrough = service.original_dst;
  if (policy.load_balancer) {
    const auto& l = *policy.load_balancer;
    using S = istio::LoadBalancer::Simple;
    if (l.simple == S::kRoundRobin) lb = "round_robin";
    if (l.simple == S::kRandom) lb = "random";
    if (l.simple == S::kPassthrough) passthrough = true;
    if (l.hashed) {
      json h;
      if (!l.http_header_name.empty()) h["header"] = l.http_header_name;
      if (!l.http_query_parameter_name.empty()) h["query_parameter"] = l.http_query_parameter_name;
      if (l.use_source_ip) h["source_ip"] = true;
      if (!l.cookie_name.empty()) {
        h["cookie"] = l.cookie_name;
        if (!l.cookie_path.empty()) h["cookie_path"] = l.cookie_path;
        if (l.cookie_ttl_ms) h["cookie_ttl_ms"] = l.cookie_ttl_ms;
      }
      if (l.minimum_ring_size) h["minimum_ring_size"] = l.minimum_ring_size;
      c["consistent_hash"] = h;
    }
  }
  c["lb_policy"] = lb;
  c["type"] = passthrough ? "original_dst" : "static";
  if (policy.connection_pool) {
    const auto& p = *policy.connection_pool;
    if (p.max_connections) c["max_connections"] = cap(*p.max_connections, 1000000);
    if (p.connect_timeout_ms) c["connect_timeout_ms"] = cap(*p.connect_timeout_ms, 600000);
    if (p.idle_timeout_ms) c["idle_timeout_ms"] = cap(*p.idle_timeout_ms, 86400000);
    if (p.http1_max_pending_requests)
      c["max_pending_requests"] = cap(*p.http1_max_pending_requests, 100000000);
    if (p.http2_max_requests) c["max_requests"] = cap(*p.http2_max_requests, 100000000);
    if (p.max_requests_per_connection)
      c["max_requests_per_connection"] = cap(*p.max_requests_per_connection, 100000000);
    if (p.max_retries) c["max_retries"] = cap(*p.max_retries, 100000000);
    if (p.max_concurrent_streams)
      c["max_concurrent_streams"] = cap(*p.max_concurrent_streams, 100000);
  }
  if (policy.outlier_detection) {
    const auto& o = *policy.outlier_detection;
    json od = {{"consecutive_5xx", cap(o.consecutive_5xx_errors.value_or(5), 1000000)}};
    if (o.consecutive_gateway_errors)
      od["consecutive_gateway_errors"] = cap(*o.consecutive_gateway_errors, 1000000);
    if (o.interval_ms) od["interval_ms"] = cap(*o.interval_ms, 86400000);
    if (o.base_ejection_time_ms)
      od["base_ejection_time_ms"] = cap(*o.base_ejection_time_ms, 86400000);
    if (o.max_ejection_percent) od["max_ejection_percent"] = *o.max_ejection_percent;
    if (o.min_health_percent) od["min_health_percent"] = *o.min_health_percent;
    c["outlier_detection"] = od;
  }
  if (policy.tls && policy.tls->mode == istio::ClientTls::Mode::kDisable) {
    // Said, not left out: a cluster without `tls` gets auto mTLS in the proxy.
    c["tls"] = json{{"mode", "disable"}};
  } else if (policy.tls) {
    const auto& t = *policy.tls;
    static const char* kModes[] = {"disable", "simple", "mutual", "istio_mutual"};
    json tls = {{"mode", kModes[static_cast<int>(t.mode)]}};
    std::string sni = t.sni;
    if (sni.empty() && t.mode == istio::ClientTls::Mode::kIstioMutual)
      sni = "outbound_." + std::to_string(port.number) + "_." + (subset ? subset->name : "") +
            "_." + service.hostname;
    if (!sni.empty()) tls["sni"] = sni;
    auto sans = t.subject_alt_names;
    if (sans.empty() && service.entry) sans = service.entry->subject_alt_names;
    if (!sans.empty()) tls["subject_alt_names"] = sans;
    if (!t.ca_certificates.empty()) tls["ca_certificates"] = t.ca_certificates;
    if (!t.client_certificate.empty()) tls["client_certificate"] = t.client_certificate;
    if (!t.private_key.empty()) tls["private_key"] = t.private_key;
    if (t.insecure_skip_verify) tls["insecure_skip_verify"] = true;
    c["tls"] = tls;
  }
  if (passthrough) return c;

  json endpoints = json::array();
  using Res = istio::ServiceEntry::Resolution;
  bool round_robin_dns = service.entry && service.entry->resolution == Res::kDnsRoundRobin;
  auto it = service.instances.find(port.number);
  if (it != service.instances.end())
    for (const auto& inst : it->second) {
      if (subset && !labelsMatch(subset->labels, inst.labels)) continue;
      std::vector<std::string> addresses;
      if (isIpAddress(inst.address)) {
        addresses.push_back(inst.address);
      } else if (auto r = input_.resolved.find(inst.address); r != input_.resolved.end()) {
        addresses = r->second;
        if (round_robin_dns && addresses.size() > 1) addresses.resize(1);
      } else {
        warnings_->push_back("cluster " + name + ": host " + inst.address +
                             " has no DNS answer yet; the cluster has no endpoint for it");
      }
      for (const auto& a : addresses) {
        json e = {{"address", a}, {"port", inst.port}};
        if (inst.weight != 1) e["weight"] = inst.weight;
        if (!inst.labels.empty()) e["labels"] = inst.labels;
        if (!inst.locality.empty()) e["locality"] = inst.locality;
        if (!inst.network.empty()) e["network"] = inst.network;
        endpoints.push_back(std::move(e));
      }
    }
  c["endpoints"] = std::move(endpoints);
  return c;
}

void ClusterBuilder::addServiceClusters(const Service& service, json* clusters) const {
  const istio::DestinationRule* rule = ruleFor(service);
  for (const auto& port : service.ports) {
    clusters->push_back(cluster(service, port, nullptr, rule));
    if (rule)
      for (const auto& s : rule->subsets)
        clusters->push_back(cluster(service, port, &s, rule));
  }
}

}  // namespace meshnode::compiler
