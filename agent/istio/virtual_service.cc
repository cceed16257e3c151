#include <re2/re2.h>

#include "agent/istio/decode.h"

namespace meshnode::istio {
namespace {

// Envoy's retry conditions that Istio passes through (x-envoy-retry-on and grpc-on names).
constexpr const char* kRetryOn[] = {"5xx",
                                    "gateway-error",
                                    "reset",
                                    "reset-before-request",
                                    "connect-failure",
                                    "envoy-ratelimited",
                                    "retriable-4xx",
                                    "refused-stream",
                                    "retriable-status-codes",
                                    "retriable-headers",
                                    "http3-post-connect-failure",
                                    "cancelled",
                                    "deadline-exceeded",
                                    "internal",
                                    "resource-exhausted",
                                    "unavailable"};

std::optional<StringMatch> decodeStringMatch(const YAML::Node& n, const std::string& p,
                                             FieldReader& r, bool allow_prefix = true) {
  if (n.IsDefined() && n.IsNull()) return StringMatch{};
  if (!r.isMap(n, p)) return std::nullopt;
  r.known(n, p, {"exact", "prefix", "regex"});
  StringMatch m;
  int kinds = 0;
  if (auto v = r.str(n, p, "exact")) m = {StringMatch::Kind::kExact, *v}, ++kinds;
  if (auto v = r.str(n, p, "prefix")) {
    m = {StringMatch::Kind::kPrefix, *v}, ++kinds;
    if (!allow_prefix) r.error(n["prefix"], p + ".prefix", "is not supported here");
  }
  if (auto v = r.str(n, p, "regex")) {
    m = {StringMatch::Kind::kRegex, *v}, ++kinds;
    // Istio documents RE2 syntax, and the proxy matches with RE2: a pattern RE2 refuses
    // (lookaround, backreferences) is refused here, where the line of the YAML is known.
    RE2::Options options;
    options.set_log_errors(false);
    RE2 check(*v, options);
    if (!check.ok())
      r.error(n["regex"], p + ".regex",
              "invalid regular expression: " + check.error() + " (RE2 syntax)");
  }
  if (kinds > 1) r.error(n, p, "needs only one of exact, prefix, regex");
  return m;
}

// headers / withoutHeaders / queryParams: a map of name to StringMatch.
std::vector<std::pair<std::string, StringMatch>> decodeMatchMap(const YAML::Node& parent,
                                                                const std::string& p,
                                                                const char* key, FieldReader& r,
                                                                bool lower, bool allow_prefix) {
  std::vector<std::pair<std::string, StringMatch>> out;
  const YAML::Node n = parent[key];
  if (!n.IsDefined() || n.IsNull()) return out;
  std::string mp = p + "." + key;
  if (!r.isMap(n, mp)) return out;
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    if (name.empty()) {
      r.error(kv.first, mp, "a name must not be empty");
      continue;
    }
    if (lower)
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto m = decodeStringMatch(kv.second, mp + "." + kv.first.Scalar(), r, allow_prefix))
      out.emplace_back(name, *m);
  }
  return out;
}

void decodeDestination(const YAML::Node& n, const std::string& p, FieldReader& r,
                       Destination* out) {
  if (!n.IsDefined()) {
    r.error(n, p, "is required");
    return;
  }
  if (!r.isMap(n, p)) return;
  r.known(n, p, {"host", "subset", "port"});
  out->host = r.str(n, p, "host", true).value_or("");
  if (!out->host.empty() && !isValidHost(out->host, false))
    r.error(n["host"], p + ".host", "\"" + out->host + "\" is not a valid host name");
  out->subset = r.str(n, p, "subset").value_or("");
  if (const YAML::Node port = n["port"]; port.IsDefined()) {
    if (r.isMap(port, p + ".port")) {
      r.known(port, p + ".port", {"number"});
      out->port = r.u32(port, p + ".port", "number", 1, 65535, true).value_or(0);
    }
  }
}

HeaderOperations decodeHeaderOps(const YAML::Node& n, const std::string& p, FieldReader& r) {
  HeaderOperations ops;
  if (!r.isMap(n, p)) return ops;
  r.known(n, p, {"set", "add", "remove"});
  for (const char* kind : {"set", "add"}) {
    for (const auto& [k, v] : r.labels(n, p, kind)) {
      std::string name = k;
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      (std::string(kind) == "set" ? ops.set : ops.add).emplace_back(name, v);
    }
  }
  ops.remove = r.strings(n, p, "remove");
  return ops;
}

Headers decodeHeaders(const YAML::Node& parent, const std::string& p, FieldReader& r) {
  Headers h;
  const YAML::Node n = parent["headers"];
  if (!n.IsDefined() || n.IsNull()) return h;
  std::string hp = p + ".headers";
  if (!r.isMap(n, hp)) return h;
  r.known(n, hp, {"request", "response"});
  if (n["request"].IsDefined()) h.request = decodeHeaderOps(n["request"], hp + ".request", r);
  if (n["response"].IsDefined()) h.response = decodeHeaderOps(n["response"], hp + ".response", r);
  return h;
}

std::vector<RouteDestination> decodeRouteDestinations(const YAML::Node& parent,
                                                      const std::string& p, FieldReader& r) {
  std::vector<RouteDestination> out;
  const YAML::Node n = parent["route"];
  if (!n.IsDefined() || n.IsNull()) return out;
  std::string rp = p + ".route";
  if (!r.isSeq(n, rp)) return out;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string dp = at(rp, i);
    if (!r.isMap(n[i], dp)) continue;
    r.known(n[i], dp, {"destination", "weight", "headers"});
    RouteDestination d;
    decodeDestination(n[i]["destination"], dp + ".destination", r, &d.destination);
    if (!n[i]["destination"].IsDefined()) r.error(n[i], dp + ".destination", "is required");
    d.weight = r.u32(n[i], dp, "weight", 0, 100);
    d.headers = decodeHeaders(n[i], dp, r);
    out.push_back(std::move(d));
  }
  if (out.size() > 1) {
    uint32_t total = 0;
    for (const auto& d : out)
      total += d.weight.value_or(0);
    if (total == 0) r.error(n, rp, "weights of several destinations must not all be zero");
  }
  return out;
}

HttpMatch decodeHttpMatch(const YAML::Node& n, const std::string& p, FieldReader& r) {
  HttpMatch m;
  r.known(n, p,
          {"name", "uri", "scheme", "method", "authority", "headers", "port", "sourceLabels",
           "gateways", "queryParams", "ignoreUriCase", "withoutHeaders", "sourceNamespace",
           "statPrefix"});
  r.notApplied(n, p, {"statPrefix"});
  auto one = [&](const char* key, std::optional<StringMatch>* out) {
    if (n[key].IsDefined()) *out = decodeStringMatch(n[key], p + "." + key, r);
  };
  one("uri", &m.uri);
  one("scheme", &m.scheme);
  one("method", &m.method);
  one("authority", &m.authority);
  m.headers = decodeMatchMap(n, p, "headers", r, true, true);
  m.without_headers = decodeMatchMap(n, p, "withoutHeaders", r, true, true);
  m.query_params = decodeMatchMap(n, p, "queryParams", r, false, false);
  m.port = r.u32(n, p, "port", 1, 65535).value_or(0);
  m.source_labels = r.labels(n, p, "sourceLabels");
  m.gateways = r.strings(n, p, "gateways");
  m.source_namespace = r.str(n, p, "sourceNamespace").value_or("");
  m.ignore_uri_case = r.boolean(n, p, "ignoreUriCase").value_or(false);
  return m;
}

void decodeRetries(const YAML::Node& n, const std::string& p, FieldReader& r, HttpRoute* route) {
  if (!r.isMap(n, p)) return;
  r.known(n, p, {"attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities"});
  r.notApplied(n, p, {"retryRemoteLocalities"});
  HttpRetry retry;
  retry.attempts = r.u32(n, p, "attempts", 0, 100).value_or(0);
  retry.per_try_timeout_ms = r.duration(n, p, "perTryTimeout", 1).value_or(0);
  retry.retry_on = r.str(n, p, "retryOn").value_or("");
  size_t start = 0;
  while (!retry.retry_on.empty() && start <= retry.retry_on.size()) {
    size_t comma = retry.retry_on.find(',', start);
    std::string item = retry.retry_on.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    bool numeric = !item.empty() && item.size() == 3 &&
                   std::all_of(item.begin(), item.end(), ::isdigit) && item[0] >= '1' &&
                   item[0] <= '5';
    bool named = std::any_of(std::begin(kRetryOn), std::end(kRetryOn),
                             [&](const char* k) { return item == k; });
    if (!numeric && !named)
      r.error(n["retryOn"], p + ".retryOn",
              "\"" + item +
                  "\" is not a retry condition (5xx, gateway-error, reset, "
                  "connect-failure, refused-stream, retriable-4xx, a status code, ...)");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  route->retries = retry;
}

double decodePercentage(const YAML::Node& n, const std::string& p, FieldReader& r) {
  if (const YAML::Node pct = n["percentage"]; pct.IsDefined()) {
    if (!r.isMap(pct, p + ".percentage")) return 0;
    r.known(pct, p + ".percentage", {"value"});
    return r.number(pct, p + ".percentage", "value", 0, 100).value_or(0);
  }
  if (auto legacy = r.u32(n, p, "percent", 0, 100)) return *legacy;
  return 100;
}

void decodeFault(const YAML::Node& n, const std::string& p, FieldReader& r, HttpRoute* route) {
  if (!r.isMap(n, p)) return;
  r.known(n, p, {"delay", "abort"});
  HttpFault f;
  if (const YAML::Node d = n["delay"]; d.IsDefined() && r.isMap(d, p + ".delay")) {
    std::string dp = p + ".delay";
    r.known(d, dp, {"fixedDelay", "percentage", "percent", "exponentialDelay"});
    if (d["exponentialDelay"].IsDefined())
      r.error(d["exponentialDelay"], dp + ".exponentialDelay", "is not supported; use fixedDelay");
    f.delay_ms = r.duration(d, dp, "fixedDelay", 1);
    if (!d["fixedDelay"].IsDefined()) r.error(d, dp + ".fixedDelay", "is required");
    f.delay_percent = decodePercentage(d, dp, r);
  }
  if (const YAML::Node a = n["abort"]; a.IsDefined() && r.isMap(a, p + ".abort")) {
    std::string ap = p + ".abort";
    r.known(a, ap, {"httpStatus", "percentage", "grpcStatus", "http2Error"});
    if (a["grpcStatus"].IsDefined() || a["http2Error"].IsDefined())
      r.error(a, ap, "only httpStatus aborts are supported");
    if (auto s = r.u32(a, ap, "httpStatus", 200, 599, true))
      f.abort_status = static_cast<uint16_t>(*s);
    f.abort_percent = decodePercentage(a, ap, r);
  }
  if (!f.delay_ms && !f.abort_status && !r.failed()) r.error(n, p, "needs a delay or an abort");
  route->fault = f;
}

void decodeCors(const YAML::Node& n, const std::string& p, FieldReader& r, HttpRoute* route) {
  if (!r.isMap(n, p)) return;
  r.known(n, p,
          {"allowOrigins", "allowOrigin", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge",
           "allowCredentials", "unmatchedPreflights"});
  r.notApplied(n, p, {"unmatchedPreflights"});
  CorsPolicy c;
  if (const YAML::Node os = n["allowOrigins"]; os.IsDefined() && r.isSeq(os, p + ".allowOrigins"))
    for (size_t i = 0; i < os.size(); ++i)
      if (auto m = decodeStringMatch(os[i], at(p + ".allowOrigins", i), r))
        c.allow_origins.push_back(*m);
  for (const auto& o : r.strings(n, p, "allowOrigin"))  // deprecated exact list
    c.allow_origins.push_back({StringMatch::Kind::kExact, o});
  c.allow_methods = r.strings(n, p, "allowMethods");
  c.allow_headers = r.strings(n, p, "allowHeaders");
  c.expose_headers = r.strings(n, p, "exposeHeaders");
  c.max_age_ms = r.duration(n, p, "maxAge").value_or(0);
  c.allow_credentials = r.boolean(n, p, "allowCredentials");
  route->cors = std::move(c);
}

void decodeMirror(const YAML::Node& n, const std::string& p, FieldReader& r, double percent,
                  HttpRoute* route) {
  Mirror m;
  decodeDestination(n, p, r, &m.destination);
  m.percent = percent;
  route->mirrors.push_back(std::move(m));
}

HttpRoute decodeHttpRoute(const YAML::Node& n, const std::string& p, FieldReader& r) {
  HttpRoute route;
  r.known(n, p,
          {"name", "match", "route", "redirect", "directResponse", "delegate", "rewrite", "timeout",
           "retries", "fault", "mirror", "mirrors", "mirrorPercentage", "mirrorPercent",
           "corsPolicy", "headers"});
  route.name = r.str(n, p, "name").value_or("");
  if (const YAML::Node ms = n["match"]; ms.IsDefined() && !ms.IsNull() && r.isSeq(ms, p + ".match"))
    for (size_t i = 0; i < ms.size(); ++i)
      if (r.isMap(ms[i], at(p + ".match", i)))
        route.match.push_back(decodeHttpMatch(ms[i], at(p + ".match", i), r));
  route.route = decodeRouteDestinations(n, p, r);
  if (const YAML::Node rd = n["redirect"]; rd.IsDefined() && r.isMap(rd, p + ".redirect")) {
    std::string rp = p + ".redirect";
    r.known(rd, rp, {"uri", "authority", "port", "derivePort", "scheme", "redirectCode"});
    r.notApplied(rd, rp, {"derivePort"});
    HttpRedirect red;
    red.uri = r.str(rd, rp, "uri").value_or("");
    red.authority = r.str(rd, rp, "authority").value_or("");
    red.scheme = r.str(rd, rp, "scheme").value_or("");
    red.port = r.u32(rd, rp, "port", 1, 65535).value_or(0);
    red.code = static_cast<uint16_t>(r.u32(rd, rp, "redirectCode", 300, 399).value_or(301));
    route.redirect = red;
  }
  if (const YAML::Node dr = n["directResponse"];
      dr.IsDefined() && r.isMap(dr, p + ".directResponse")) {
    std::string dp = p + ".directResponse";
    r.known(dr, dp, {"status", "body"});
    HttpDirectResponse d;
    d.status = static_cast<uint16_t>(r.u32(dr, dp, "status", 200, 599, true).value_or(200));
    if (const YAML::Node b = dr["body"]; b.IsDefined() && r.isMap(b, dp + ".body")) {
      r.known(b, dp + ".body", {"string", "bytes"});
      d.body = r.str(b, dp + ".body", "string").value_or("");
      if (b["bytes"].IsDefined()) r.error(b["bytes"], dp + ".body.bytes", "is not supported");
    }
    route.direct_response = d;
  }
  if (n["delegate"].IsDefined())
    r.error(n["delegate"], p + ".delegate", "delegate applies to gateways, not to a sidecar");
  if (const YAML::Node rw = n["rewrite"]; rw.IsDefined() && r.isMap(rw, p + ".rewrite")) {
    r.known(rw, p + ".rewrite", {"uri", "authority", "uriRegexRewrite"});
    if (rw["uriRegexRewrite"].IsDefined())
      r.error(rw["uriRegexRewrite"], p + ".rewrite.uriRegexRewrite", "is not supported");
    route.rewrite = HttpRewrite{r.str(rw, p + ".rewrite", "uri").value_or(""),
                                r.str(rw, p + ".rewrite", "authority").value_or("")};
  }
  route.timeout_ms = r.duration(n, p, "timeout");
  if (n["retries"].IsDefined()) decodeRetries(n["retries"], p + ".retries", r, &route);
  if (n["fault"].IsDefined()) decodeFault(n["fault"], p + ".fault", r, &route);
  if (n["corsPolicy"].IsDefined()) decodeCors(n["corsPolicy"], p + ".corsPolicy", r, &route);
  if (n["mirror"].IsDefined()) {
    double pct = 100;
    if (const YAML::Node mp = n["mirrorPercentage"];
        mp.IsDefined() && r.isMap(mp, p + ".mirrorPercentage")) {
      r.known(mp, p + ".mirrorPercentage", {"value"});
      pct = r.number(mp, p + ".mirrorPercentage", "value", 0, 100).value_or(0);
    } else if (auto legacy = r.u32(n, p, "mirrorPercent", 0, 100)) {
      pct = *legacy;
    }
    decodeMirror(n["mirror"], p + ".mirror", r, pct, &route);
  }
  if (const YAML::Node ms = n["mirrors"]; ms.IsDefined() && r.isSeq(ms, p + ".mirrors")) {
    if (n["mirror"].IsDefined()) r.error(ms, p + ".mirrors", "cannot be used with mirror");
    for (size_t i = 0; i < ms.size(); ++i) {
      std::string mp = at(p + ".mirrors", i);
      if (!r.isMap(ms[i], mp)) continue;
      r.known(ms[i], mp, {"destination", "percentage"});
      double pct = 100;
      if (ms[i]["percentage"].IsDefined() && r.isMap(ms[i]["percentage"], mp + ".percentage"))
        pct = r.number(ms[i]["percentage"], mp + ".percentage", "value", 0, 100).value_or(0);
      decodeMirror(ms[i]["destination"], mp + ".destination", r, pct, &route);
    }
  }
  route.headers = decodeHeaders(n, p, r);

  int actions =
      !route.route.empty() + route.redirect.has_value() + route.direct_response.has_value();
  if (actions == 0)
    r.error(n, p, "needs one of route, redirect, directResponse");
  else if (actions > 1)
    r.error(n, p, "route, redirect and directResponse are mutually exclusive");
  if (route.redirect && route.rewrite)
    r.error(n["rewrite"], p + ".rewrite", "cannot be used with redirect");
  return route;
}

L4Route decodeL4Route(const YAML::Node& n, const std::string& p, FieldReader& r, bool tls) {
  L4Route route;
  r.known(n, p, {"match", "route"});
  if (const YAML::Node ms = n["match"]; ms.IsDefined() && !ms.IsNull() && r.isSeq(ms, p + ".match"))
    for (size_t i = 0; i < ms.size(); ++i) {
      std::string mp = at(p + ".match", i);
      if (!r.isMap(ms[i], mp)) continue;
      if (tls)
        r.known(ms[i], mp,
                {"sniHosts", "destinationSubnets", "port", "sourceLabels", "gateways",
                 "sourceNamespace"});
      else
        r.known(ms[i], mp,
                {"destinationSubnets", "port", "sourceLabels", "gateways", "sourceNamespace",
                 "sourceSubnet"});
      r.notApplied(ms[i], mp, {"sourceSubnet"});
      L4Match m;
      m.destination_subnets = r.strings(ms[i], mp, "destinationSubnets");
      for (size_t k = 0; k < m.destination_subnets.size(); ++k)
        if (!isIpOrCidr(m.destination_subnets[k]))
          r.error(ms[i]["destinationSubnets"][k], at(mp + ".destinationSubnets", k),
                  "\"" + m.destination_subnets[k] + "\" is not an address or CIDR");
      m.port = r.u32(ms[i], mp, "port", 1, 65535).value_or(0);
      m.source_labels = r.labels(ms[i], mp, "sourceLabels");
      m.gateways = r.strings(ms[i], mp, "gateways");
      m.source_namespace = r.str(ms[i], mp, "sourceNamespace").value_or("");
      if (tls) {
        m.sni_hosts = r.strings(ms[i], mp, "sniHosts");
        if (m.sni_hosts.empty()) r.error(ms[i], mp + ".sniHosts", "is required");
      }
      route.match.push_back(std::move(m));
    }
  if (tls && route.match.empty()) r.error(n, p + ".match", "is required");
  route.route = decodeRouteDestinations(n, p, r);
  if (route.route.empty()) r.error(n, p + ".route", "is required");
  return route;
}

bool hostCovers(const std::string& pattern, const std::string& host) {
  if (pattern == host || pattern == "*") return true;
  if (pattern.size() > 1 && pattern[0] == '*')
    return host.size() >= pattern.size() - 1 &&
           host.compare(host.size() - (pattern.size() - 1), std::string::npos, pattern, 1) == 0;
  return false;
}

}  // namespace

void decodeVirtualService(const YAML::Node& spec, FieldReader& r, VirtualService* out) {
  const std::string p = "spec";
  r.known(spec, p, {"hosts", "gateways", "http", "tls", "tcp", "exportTo"});
  out->hosts = r.strings(spec, p, "hosts");
  out->gateways = r.strings(spec, p, "gateways");
  out->export_to = r.strings(spec, p, "exportTo");
  if (out->hosts.empty()) r.error(spec, p + ".hosts", "is required");
  bool mesh = out->gateways.empty() ||
              std::find(out->gateways.begin(), out->gateways.end(), "mesh") != out->gateways.end();
  for (size_t i = 0; i < out->hosts.size(); ++i) {
    const std::string& h = out->hosts[i];
    if (h == "*" && mesh)
      r.error(spec["hosts"][i], at(p + ".hosts", i),
              "the wildcard host \"*\" is not allowed for the mesh gateway");
    else if (!isValidHost(h, true))
      r.error(spec["hosts"][i], at(p + ".hosts", i), "\"" + h + "\" is not a valid host name");
  }
  auto list = [&](const char* key, auto&& each) {
    const YAML::Node n = spec[key];
    if (!n.IsDefined() || n.IsNull()) return;
    if (!r.isSeq(n, p + "." + key)) return;
    for (size_t i = 0; i < n.size(); ++i)
      if (r.isMap(n[i], at(p + "." + key, i))) each(n[i], at(p + "." + key, i));
  };
  list("http", [&](const YAML::Node& n, const std::string& ip) {
    out->http.push_back(decodeHttpRoute(n, ip, r));
  });
  list("tls", [&](const YAML::Node& n, const std::string& ip) {
    out->tls.push_back(decodeL4Route(n, ip, r, true));
    for (size_t m = 0; m < out->tls.back().match.size(); ++m)
      for (const auto& sni : out->tls.back().match[m].sni_hosts)
        if (std::none_of(out->hosts.begin(), out->hosts.end(),
                         [&](const std::string& h) { return hostCovers(h, sni); }))
          r.error(n["match"][m]["sniHosts"], at(ip + ".match", m) + ".sniHosts",
                  "\"" + sni + "\" is not one of the virtual service's hosts");
  });
  list("tcp", [&](const YAML::Node& n, const std::string& ip) {
    out->tcp.push_back(decodeL4Route(n, ip, r, false));
  });
  if (out->http.empty() && out->tls.empty() && out->tcp.empty())
    r.error(spec, p, "needs http, tls or tcp routes");
}

}  // namespace meshnode::istio
