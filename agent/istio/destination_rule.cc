#include <set>

#include "agent/istio/decode.h"

namespace meshnode::istio {
namespace {

LoadBalancer decodeLoadBalancer(const YAML::Node& n, const std::string& p, FieldReader& r) {
  LoadBalancer lb;
  if (!r.isMap(n, p)) return lb;
  r.known(n, p, {"simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup"});
  r.notApplied(n, p, {"localityLbSetting", "warmupDurationSecs", "warmup"});
  if (auto s = r.choice(
          n, p, "simple",
          {"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"})) {
    constexpr LoadBalancer::Simple kMap[] = {
        LoadBalancer::Simple::kUnset,      LoadBalancer::Simple::kLeastRequest,
        LoadBalancer::Simple::kRandom,     LoadBalancer::Simple::kPassthrough,
        LoadBalancer::Simple::kRoundRobin, LoadBalancer::Simple::kLeastRequest};
    lb.simple = kMap[*s];
  }
  if (const YAML::Node ch = n["consistentHash"]; ch.IsDefined()) {
    std::string cp = p + ".consistentHash";
    if (n["simple"].IsDefined()) r.error(ch, cp, "cannot be used with simple");
    if (!r.isMap(ch, cp)) return lb;
    r.known(ch, cp,
            {"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", "ringHash",
             "maglev", "minimumRingSize"});
    r.notApplied(ch, cp, {"maglev"});
    lb.hashed = true;
    int keys = 0;
    if (auto h = r.str(ch, cp, "httpHeaderName")) lb.http_header_name = *h, ++keys;
    if (auto q = r.str(ch, cp, "httpQueryParameterName")) lb.http_query_parameter_name = *q, ++keys;
    if (r.boolean(ch, cp, "useSourceIp").value_or(false)) lb.use_source_ip = true, ++keys;
    if (const YAML::Node c = ch["httpCookie"]; c.IsDefined() && r.isMap(c, cp + ".httpCookie")) {
      r.known(c, cp + ".httpCookie", {"name", "path", "ttl", "attributes"});
      r.notApplied(c, cp + ".httpCookie", {"attributes"});
      lb.cookie_name = r.str(c, cp + ".httpCookie", "name", true).value_or("");
      lb.cookie_path = r.str(c, cp + ".httpCookie", "path").value_or("");
      lb.cookie_ttl_ms = r.duration(c, cp + ".httpCookie", "ttl").value_or(0);
      ++keys;
    }
    if (keys != 1)
      r.error(ch, cp,
              "needs exactly one of httpHeaderName, httpCookie, useSourceIp, "
              "httpQueryParameterName");
    lb.minimum_ring_size = r.u64(ch, cp, "minimumRingSize", 1, 8388608).value_or(0);
    if (const YAML::Node rh = ch["ringHash"]; rh.IsDefined() && r.isMap(rh, cp + ".ringHash")) {
      r.known(rh, cp + ".ringHash", {"minimumRingSize"});
      lb.minimum_ring_size = r.u64(rh, cp + ".ringHash", "minimumRingSize", 1, 8388608).value_or(0);
    }
  }
  return lb;
}

ConnectionPool decodeConnectionPool(const YAML::Node& n, const std::string& p, FieldReader& r) {
  ConnectionPool cp;
  if (!r.isMap(n, p)) return cp;
  r.known(n, p, {"tcp", "http"});
  if (const YAML::Node t = n["tcp"]; t.IsDefined() && r.isMap(t, p + ".tcp")) {
    std::string tp = p + ".tcp";
    r.known(t, tp,
            {"maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration",
             "idleTimeout"});
    r.notApplied(t, tp, {"tcpKeepalive", "maxConnectionDuration"});
    cp.max_connections = r.u32(t, tp, "maxConnections", 1, UINT32_MAX);
    cp.connect_timeout_ms = r.duration(t, tp, "connectTimeout", 1);
    if (auto idle = r.duration(t, tp, "idleTimeout", 1)) cp.idle_timeout_ms = idle;
  }
  if (const YAML::Node h = n["http"]; h.IsDefined() && r.isMap(h, p + ".http")) {
    std::string hp = p + ".http";
    r.known(
        h, hp,
        {"http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries",
         "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"});
    r.notApplied(h, hp, {"h2UpgradePolicy", "useClientProtocol"});
    cp.http1_max_pending_requests = r.u32(h, hp, "http1MaxPendingRequests", 1, UINT32_MAX);
    cp.http2_max_requests = r.u32(h, hp, "http2MaxRequests", 1, UINT32_MAX);
    cp.max_requests_per_connection = r.u32(h, hp, "maxRequestsPerConnection", 0, UINT32_MAX);
    cp.max_retries = r.u32(h, hp, "maxRetries", 0, UINT32_MAX);
    cp.max_concurrent_streams = r.u32(h, hp, "maxConcurrentStreams", 1, UINT32_MAX);
    if (auto idle = r.duration(h, hp, "idleTimeout", 1)) cp.idle_timeout_ms = idle;
  }
  return cp;
}

OutlierDetection decodeOutlier(const YAML::Node& n, const std::string& p, FieldReader& r) {
  OutlierDetection od;
  if (!r.isMap(n, p)) return od;
  r.known(n, p,
          {"consecutiveErrors", "consecutive5xxErrors", "consecutiveGatewayErrors",
           "consecutiveLocalOriginFailures", "splitExternalLocalOriginErrors", "interval",
           "baseEjectionTime", "maxEjectionPercent", "minHealthPercent"});
  r.notApplied(n, p, {"consecutiveLocalOriginFailures", "splitExternalLocalOriginErrors"});
  od.consecutive_5xx_errors = r.u32(n, p, "consecutive5xxErrors", 0, UINT32_MAX);
  if (auto legacy = r.u32(n, p, "consecutiveErrors", 0, UINT32_MAX);
      legacy && !od.consecutive_5xx_errors)
    od.consecutive_5xx_errors = legacy;
  od.consecutive_gateway_errors = r.u32(n, p, "consecutiveGatewayErrors", 0, UINT32_MAX);
  od.interval_ms = r.duration(n, p, "interval", 1);
  od.base_ejection_time_ms = r.duration(n, p, "baseEjectionTime", 1);
  od.max_ejection_percent = r.u32(n, p, "maxEjectionPercent", 0, 100);
  od.min_health_percent = r.u32(n, p, "minHealthPercent", 0, 100);
  return od;
}

ClientTls decodeTls(const YAML::Node& n, const std::string& p, FieldReader& r) {
  ClientTls tls;
  if (!r.isMap(n, p)) return tls;
  r.known(n, p,
          {"mode", "clientCertificate", "privateKey", "caCertificates", "credentialName",
           "subjectAltNames", "sni", "insecureSkipVerify", "caCrl"});
  r.notApplied(n, p, {"caCrl"});
  if (auto m = r.choice(n, p, "mode", {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"}))
    tls.mode = static_cast<ClientTls::Mode>(*m);
  tls.client_certificate = r.str(n, p, "clientCertificate").value_or("");
  tls.private_key = r.str(n, p, "privateKey").value_or("");
  tls.ca_certificates = r.str(n, p, "caCertificates").value_or("");
  tls.sni = r.str(n, p, "sni").value_or("");
  tls.subject_alt_names = r.strings(n, p, "subjectAltNames");
  tls.insecure_skip_verify = r.boolean(n, p, "insecureSkipVerify").value_or(false);
  if (n["credentialName"].IsDefined())
    r.error(n["credentialName"], p + ".credentialName", "applies to gateways, not to a sidecar");
  if (tls.mode == ClientTls::Mode::kMutual &&
      (tls.client_certificate.empty() || tls.private_key.empty()))
    r.error(n, p, "MUTUAL needs clientCertificate and privateKey");
  return tls;
}

void decodeParts(const YAML::Node& n, const std::string& p, FieldReader& r, PolicyParts* out) {
  if (n["loadBalancer"].IsDefined())
    out->load_balancer = decodeLoadBalancer(n["loadBalancer"], p + ".loadBalancer", r);
  if (n["connectionPool"].IsDefined())
    out->connection_pool = decodeConnectionPool(n["connectionPool"], p + ".connectionPool", r);
  if (n["outlierDetection"].IsDefined())
    out->outlier_detection = decodeOutlier(n["outlierDetection"], p + ".outlierDetection", r);
  if (n["tls"].IsDefined()) out->tls = decodeTls(n["tls"], p + ".tls", r);
}

TrafficPolicy decodeTrafficPolicy(const YAML::Node& n, const std::string& p, FieldReader& r) {
  TrafficPolicy tp;
  if (!r.isMap(n, p)) return tp;
  r.known(n, p,
          {"loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings",
           "tunnel", "proxyProtocol", "retryBudget"});
  r.notApplied(n, p, {"tunnel", "proxyProtocol", "retryBudget"});
  decodeParts(n, p, r, &tp);
  if (const YAML::Node pl = n["portLevelSettings"];
      pl.IsDefined() && r.isSeq(pl, p + ".portLevelSettings")) {
    std::set<uint32_t> seen;
    for (size_t i = 0; i < pl.size(); ++i) {
      std::string pp = at(p + ".portLevelSettings", i);
      if (!r.isMap(pl[i], pp)) continue;
      r.known(pl[i], pp, {"port", "loadBalancer", "connectionPool", "outlierDetection", "tls"});
      uint32_t port = 0;
      if (const YAML::Node pn = pl[i]["port"]; pn.IsDefined() && r.isMap(pn, pp + ".port"))
        port = r.u32(pn, pp + ".port", "number", 1, 65535, true).value_or(0);
      else if (!pn.IsDefined())
        r.error(pl[i], pp + ".port", "is required");
      if (port && !seen.insert(port).second)
        r.error(pl[i]["port"], pp + ".port.number",
                "port " + std::to_string(port) + " is set twice");
      PolicyParts parts;
      decodeParts(pl[i], pp, r, &parts);
      tp.port_level.emplace_back(port, std::move(parts));
    }
  }
  return tp;
}

}  // namespace

void decodeDestinationRule(const YAML::Node& spec, FieldReader& r, DestinationRule* out) {
  const std::string p = "spec";
  r.known(spec, p, {"host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"});
  out->host = r.str(spec, p, "host", true).value_or("");
  if (!out->host.empty() && !isValidHost(out->host, true))
    r.error(spec["host"], p + ".host", "\"" + out->host + "\" is not a valid host name");
  if (spec["trafficPolicy"].IsDefined())
    out->traffic_policy = decodeTrafficPolicy(spec["trafficPolicy"], p + ".trafficPolicy", r);
  out->export_to = r.strings(spec, p, "exportTo");
  out->workload_selector = decodeWorkloadSelector(spec, r);
  if (const YAML::Node ss = spec["subsets"]; ss.IsDefined() && r.isSeq(ss, p + ".subsets")) {
    std::set<std::string> names;
    for (size_t i = 0; i < ss.size(); ++i) {
      std::string sp = at(p + ".subsets", i);
      if (!r.isMap(ss[i], sp)) continue;
      r.known(ss[i], sp, {"name", "labels", "trafficPolicy"});
      Subset s;
      s.name = r.str(ss[i], sp, "name", true).value_or("");
      if (!s.name.empty() && !names.insert(s.name).second)
        r.error(ss[i]["name"], sp + ".name", "duplicate subset \"" + s.name + "\"");
      s.labels = r.labels(ss[i], sp, "labels");
      if (ss[i]["trafficPolicy"].IsDefined())
        s.traffic_policy = decodeTrafficPolicy(ss[i]["trafficPolicy"], sp + ".trafficPolicy", r);
      out->subsets.push_back(std::move(s));
    }
  }
}

}  // namespace meshnode::istio
