#include "proxy/snapshot/snapshot_json.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include <arpa/inet.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "common/file.h"
#include "proxy/snapshot/json_reader.h"
#include "proxy/snapshot/security_json.h"

namespace meshnode::proxy {
namespace {

using nlohmann::json;

std::string at(const std::string& path, size_t i) {
  return JsonReader::index(path, i);
}

// A numeric IPv4 or IPv6 address (no host name, no IPv6 zone), parsed; nullopt otherwise.
std::optional<asio::ip::address> numericAddress(const std::string& a) {
  asio::ip::address_v4::bytes_type v4;
  if (inet_pton(AF_INET, a.c_str(), v4.data()) == 1) return asio::ip::address_v4(v4);
  asio::ip::address_v6::bytes_type v6;
  if (inet_pton(AF_INET6, a.c_str(), v6.data()) == 1) return asio::ip::address_v6(v6);
  return std::nullopt;
}

Direction readDirection(JsonReader& r, const json& o, const std::string& p) {
  return r.choice(o, p, "direction", Direction::kOutbound,
                  {{"outbound", Direction::kOutbound}, {"inbound", Direction::kInbound}});
}

StringMatch readStringMatch(JsonReader& r, const json& o, const std::string& p) {
  StringMatch m;
  r.known(o, p, {"exact", "prefix", "regex", "present", "absent", "ignore_case"});
  int kinds = 0;
  if (o.contains("exact"))
    m.kind = StringMatchKind::kExact, m.value = r.str(o, p, "exact", 1), ++kinds;
  if (o.contains("prefix"))
    m.kind = StringMatchKind::kPrefix, m.value = r.str(o, p, "prefix", 1), ++kinds;
  if (o.contains("regex"))
    m.kind = StringMatchKind::kRegex, m.value = r.str(o, p, "regex", 1), ++kinds;
  if (r.boolean(o, p, "present", false)) m.kind = StringMatchKind::kPresent, ++kinds;
  if (r.boolean(o, p, "absent", false)) m.kind = StringMatchKind::kAbsent, ++kinds;
  m.ignore_case = r.boolean(o, p, "ignore_case", false);
  if (kinds != 1) r.fail(p, "needs exactly one of exact, prefix, regex, present, absent");
  if (m.kind == StringMatchKind::kRegex && !r.failed()) {
    // RE2: Istio's documented syntax, and matching in time linear in the input, without
    // recursion, whatever pattern and header value meet on the data path.
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(!m.ignore_case);
    auto regex = std::make_shared<const RE2>(m.value, options);
    if (regex->ok())
      m.regex = std::move(regex);
    else
      r.fail(p + ".regex", "invalid regular expression: " + regex->error() + " (RE2 syntax)");
  }
  return m;
}

void readHeaderOps(JsonReader& r, const json& parent, const std::string& p, const char* key,
                   HeaderOps* out) {
  auto it = parent.find(key);
  if (it == parent.end()) return;
  std::string path = p + "." + key;
  if (!r.object(*it, path)) return;
  r.known(*it, path, {"set", "add", "remove"});
  for (const char* kind : {"set", "add"}) {
    auto kv = it->find(kind);
    if (kv == it->end()) continue;
    if (!kv->is_object()) {
      r.fail(path + "." + kind, "must be an object of header names to values");
      continue;
    }
    for (auto h = kv->begin(); h != kv->end(); ++h) {
      if (!h->is_string())
        r.fail(path + "." + kind + "." + h.key(), "must be a string");
      else
        (std::strcmp(kind, "set") == 0 ? out->set : out->add)
            .emplace_back(h.key(), h->get<std::string>());
    }
  }
  if (const json* rm = r.array(*it, path, "remove"))
    for (size_t i = 0; i < rm->size(); ++i) {
      if (!(*rm)[i].is_string())
        r.fail(at(path + ".remove", i), "must be a string");
      else
        out->remove.push_back((*rm)[i].get<std::string>());
    }
}

double readPercent(JsonReader& r, const json& o, const std::string& p, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return 100;
  if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 100) {
    r.fail(p + "." + key, "must be a number from 0 to 100");
    return 0;
  }
  return it->get<double>();
}

std::vector<std::string> readStrings(JsonReader& r, const json& o, const std::string& p,
                                     const char* key) {
  std::vector<std::string> out;
  if (const json* a = r.array(o, p, key))
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_string())
        r.fail(at(p + "." + key, i), "must be a string");
      else
        out.push_back((*a)[i].get<std::string>());
    }
  return out;
}

void readRouteExtras(JsonReader& r, const json& o, const std::string& p, Route* route) {
  if (auto it = o.find("retries"); it != o.end() && r.object(*it, p + ".retries")) {
    std::string rp = p + ".retries";
    r.known(*it, rp, {"attempts", "per_try_timeout_ms", "retry_on", "retriable_status_codes"});
    RetryPolicy rt;
    rt.attempts = static_cast<uint32_t>(r.num(*it, rp, "attempts", true, 0, 0, 100));
    rt.per_try_timeout = Millis(r.num(*it, rp, "per_try_timeout_ms", false, 0, 0, 86400000));
    rt.retry_on = readStrings(r, *it, rp, "retry_on");
    if (const json* cs = r.array(*it, rp, "retriable_status_codes"))
      for (size_t i = 0; i < cs->size(); ++i) {
        if (!(*cs)[i].is_number_integer() || (*cs)[i].get<int64_t>() < 100 ||
            (*cs)[i].get<int64_t>() > 599)
          r.fail(at(rp + ".retriable_status_codes", i), "must be a status from 100 to 599");
        else
          rt.retriable_status_codes.push_back(static_cast<uint16_t>((*cs)[i].get<int64_t>()));
      }
    route->retries = rt;
  }
  if (auto it = o.find("fault"); it != o.end() && r.object(*it, p + ".fault")) {
    std::string fp = p + ".fault";
    r.known(*it, fp, {"delay_ms", "delay_percent", "abort_status", "abort_percent"});
    FaultPolicy f;
    f.delay = Millis(r.num(*it, fp, "delay_ms", false, 0, 0, 86400000));
    f.delay_percent = f.delay.count() ? readPercent(r, *it, fp, "delay_percent") : 0;
    f.abort_status = static_cast<uint16_t>(r.num(*it, fp, "abort_status", false, 0, 0, 599));
    f.abort_percent = f.abort_status ? readPercent(r, *it, fp, "abort_percent") : 0;
    if (!f.delay.count() && !f.abort_status) r.fail(fp, "needs delay_ms or abort_status");
    route->fault = f;
  }
  if (const json* ms = r.array(o, p, "mirrors"))
    for (size_t i = 0; i < ms->size(); ++i) {
      std::string mp = at(p + ".mirrors", i);
      if (!r.object((*ms)[i], mp)) continue;
      r.known((*ms)[i], mp, {"cluster", "percent"});
      route->mirrors.push_back(
          {r.str((*ms)[i], mp, "cluster", true), readPercent(r, (*ms)[i], mp, "percent")});
    }
  if (auto it = o.find("cors"); it != o.end() && r.object(*it, p + ".cors")) {
    std::string cp = p + ".cors";
    r.known(*it, cp,
            {"allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age_ms",
             "allow_credentials"});
    CorsPolicy c;
    if (const json* os = r.array(*it, cp, "allow_origins"))
      for (size_t i = 0; i < os->size(); ++i)
        if (r.object((*os)[i], at(cp + ".allow_origins", i)))
          c.allow_origins.push_back(readStringMatch(r, (*os)[i], at(cp + ".allow_origins", i)));
    c.allow_methods = readStrings(r, *it, cp, "allow_methods");
    c.allow_headers = readStrings(r, *it, cp, "allow_headers");
    c.expose_headers = readStrings(r, *it, cp, "expose_headers");
    c.max_age = Millis(r.num(*it, cp, "max_age_ms", false, 0, 0, 86400000ull * 365));
    if (it->contains("allow_credentials"))
      c.allow_credentials = r.boolean(*it, cp, "allow_credentials", false);
    route->cors = std::move(c);
  }
}

void readClusterExtras(JsonReader& r, const json& o, const std::string& p, Cluster* c) {
  c->max_pending_requests =
      static_cast<uint32_t>(r.num(o, p, "max_pending_requests", false, 0, 0, 100000000));
  c->max_requests = static_cast<uint32_t>(r.num(o, p, "max_requests", false, 0, 0, 100000000));
  c->max_retries = static_cast<uint32_t>(r.num(o, p, "max_retries", false, 0, 0, 100000000));
  if (auto it = o.find("consistent_hash"); it != o.end() && r.object(*it, p + ".consistent_hash")) {
    std::string hp = p + ".consistent_hash";
    r.known(*it, hp,
            {"header", "cookie", "cookie_path", "cookie_ttl_ms", "source_ip", "query_parameter",
             "minimum_ring_size"});
    ConsistentHash h;
    h.header = r.str(*it, hp, "header", false);
    h.cookie = r.str(*it, hp, "cookie", false);
    h.cookie_path = r.str(*it, hp, "cookie_path", false);
    h.cookie_ttl = Millis(r.num(*it, hp, "cookie_ttl_ms", false, 0, 0, 86400000ull * 365));
    h.source_ip = r.boolean(*it, hp, "source_ip", false);
    h.query_parameter = r.str(*it, hp, "query_parameter", false);
    h.minimum_ring_size = r.num(*it, hp, "minimum_ring_size", false, 1024, 1, 8388608);
    if (!h.header.empty() + !h.cookie.empty() + h.source_ip + !h.query_parameter.empty() != 1)
      r.fail(hp, "needs exactly one of header, cookie, source_ip, query_parameter");
    c->consistent_hash = h;
  }
  if (auto it = o.find("outlier_detection");
      it != o.end() && r.object(*it, p + ".outlier_detection")) {
    std::string op = p + ".outlier_detection";
    r.known(*it, op,
            {"consecutive_5xx", "consecutive_gateway_errors", "interval_ms",
             "base_ejection_time_ms", "max_ejection_percent", "min_health_percent"});
    OutlierDetection d;
    d.consecutive_5xx =
        static_cast<uint32_t>(r.num(*it, op, "consecutive_5xx", false, 0, 0, 1000000));
    d.consecutive_gateway_errors =
        static_cast<uint32_t>(r.num(*it, op, "consecutive_gateway_errors", false, 0, 0, 1000000));
    d.interval = Millis(r.num(*it, op, "interval_ms", false, 10000, 1, 86400000));
    d.base_ejection_time =
        Millis(r.num(*it, op, "base_ejection_time_ms", false, 30000, 1, 86400000));
    d.max_ejection_percent =
        static_cast<uint32_t>(r.num(*it, op, "max_ejection_percent", false, 10, 0, 100));
    d.min_health_percent =
        static_cast<uint32_t>(r.num(*it, op, "min_health_percent", false, 0, 0, 100));
    c->outlier_detection = d;
  }
  if (auto it = o.find("tls"); it != o.end() && r.object(*it, p + ".tls")) {
    std::string tp = p + ".tls";
    r.known(*it, tp,
            {"mode", "sni", "subject_alt_names", "ca_certificates", "client_certificate",
             "private_key", "insecure_skip_verify"});
    c->tls.mode = r.choice(*it, tp, "mode", TlsMode::kDisable,
                           {{"disable", TlsMode::kDisable},
                            {"simple", TlsMode::kSimple},
                            {"mutual", TlsMode::kMutual},
                            {"istio_mutual", TlsMode::kIstioMutual}});
    c->tls.sni = r.str(*it, tp, "sni", false);
    c->tls.subject_alt_names = readStrings(r, *it, tp, "subject_alt_names");
    c->tls.ca_certificates = r.str(*it, tp, "ca_certificates", false);
    c->tls.client_certificate = r.str(*it, tp, "client_certificate", false);
    c->tls.private_key = r.str(*it, tp, "private_key", false);
    c->tls.insecure_skip_verify = r.boolean(*it, tp, "insecure_skip_verify", false);
    c->tls.configured = true;
  }
}

Route readRoute(JsonReader& r, const json& o, const std::string& p) {
  Route route;
  r.known(
      o, p,
      {"name", "match", "clusters", "redirect", "direct_response", "prefix_rewrite", "host_rewrite",
       "timeout_ms", "request_headers", "response_headers", "retries", "fault", "mirrors", "cors"});
  route.name = r.str(o, p, "name", false);
  if (auto m = o.find("match"); m != o.end() && r.object(*m, p + ".match")) {
    std::string mp = p + ".match";
    r.known(*m, mp, {"path", "headers", "query_params"});
    if (auto path = m->find("path"); path != m->end() && r.object(*path, mp + ".path"))
      route.match.path = readStringMatch(r, *path, mp + ".path");
    if (const json* hs = r.array(*m, mp, "headers"))
      for (size_t i = 0; i < hs->size(); ++i) {
        std::string hp = at(mp + ".headers", i);
        const json& h = (*hs)[i];
        if (!r.object(h, hp)) continue;
        HeaderMatch hm;
        hm.name = r.str(h, hp, "name", true);
        std::transform(hm.name.begin(), hm.name.end(), hm.name.begin(), ::tolower);
        hm.invert = r.boolean(h, hp, "invert", false);
        json rest = h;
        rest.erase("name");
        rest.erase("invert");
        hm.match = readStringMatch(r, rest, hp);
        route.match.headers.push_back(std::move(hm));
      }
    if (const json* qs = r.array(*m, mp, "query_params"))
      for (size_t i = 0; i < qs->size(); ++i) {
        std::string qp = at(mp + ".query_params", i);
        const json& q = (*qs)[i];
        if (!r.object(q, qp)) continue;
        std::string name = r.str(q, qp, "name", true);
        json rest = q;
        rest.erase("name");
        route.match.query_params.emplace_back(name, readStringMatch(r, rest, qp));
      }
  }
  if (const json* cs = r.array(o, p, "clusters"))
    for (size_t i = 0; i < cs->size(); ++i) {
      std::string cp = at(p + ".clusters", i);
      if (!r.object((*cs)[i], cp)) continue;
      r.known((*cs)[i], cp, {"cluster", "weight"});
      WeightedCluster wc;
      wc.cluster = r.str((*cs)[i], cp, "cluster", true);
      wc.weight = static_cast<uint32_t>(r.num((*cs)[i], cp, "weight", false, 1, 0, 1000000));
      route.clusters.push_back(std::move(wc));
    }
  if (auto rd = o.find("redirect"); rd != o.end() && r.object(*rd, p + ".redirect")) {
    std::string rp = p + ".redirect";
    r.known(*rd, rp, {"scheme", "authority", "path", "status"});
    Redirect red;
    red.scheme = r.str(*rd, rp, "scheme", false);
    red.authority = r.str(*rd, rp, "authority", false);
    red.path = r.str(*rd, rp, "path", false);
    red.status = static_cast<uint16_t>(r.num(*rd, rp, "status", false, 301, 300, 399));
    route.redirect = red;
  }
  if (auto dr = o.find("direct_response"); dr != o.end() && r.object(*dr, p + ".direct_response")) {
    std::string dp = p + ".direct_response";
    r.known(*dr, dp, {"status", "body"});
    DirectResponse d;
    d.status = static_cast<uint16_t>(r.num(*dr, dp, "status", true, 200, 100, 599));
    d.body = r.str(*dr, dp, "body", false);
    route.direct_response = d;
  }
  int actions =
      !route.clusters.empty() + route.redirect.has_value() + route.direct_response.has_value();
  if (actions != 1) r.fail(p, "needs exactly one of clusters, redirect, direct_response");
  route.prefix_rewrite = r.str(o, p, "prefix_rewrite", false);
  route.host_rewrite = r.str(o, p, "host_rewrite", false);
  route.timeout = Millis(r.num(o, p, "timeout_ms", false, 0, 0, 86400000));
  readHeaderOps(r, o, p, "request_headers", &route.request_headers);
  readHeaderOps(r, o, p, "response_headers", &route.response_headers);
  readRouteExtras(r, o, p, &route);
  return route;
}

Cluster readCluster(JsonReader& r, const json& o, const std::string& p) {
  Cluster c;
  r.known(o, p,
          {"name", "type", "protocol", "lb_policy", "connect_timeout_ms", "idle_timeout_ms",
           "max_connections", "max_requests_per_connection", "max_concurrent_streams", "endpoints",
           "max_pending_requests", "max_requests", "max_retries", "consistent_hash",
           "outlier_detection", "tls"});
  c.name = r.str(o, p, "name", true);
  c.original_dst = r.choice(o, p, "type", false, {{"static", false}, {"original_dst", true}});
  c.protocol = r.choice(o, p, "protocol", UpstreamProtocol::kDownstream,
                        {{"http1", UpstreamProtocol::kHttp1},
                         {"http2", UpstreamProtocol::kHttp2},
                         {"downstream", UpstreamProtocol::kDownstream}});
  c.lb_policy = r.choice(o, p, "lb_policy", LbPolicy::kRoundRobin,
                         {{"round_robin", LbPolicy::kRoundRobin},
                          {"least_request", LbPolicy::kLeastRequest},
                          {"random", LbPolicy::kRandom}});
  c.connect_timeout = Millis(r.num(o, p, "connect_timeout_ms", false, 5000, 1, 600000));
  c.idle_timeout = Millis(r.num(o, p, "idle_timeout_ms", false, 60000, 1, 86400000));
  c.max_connections =
      static_cast<uint32_t>(r.num(o, p, "max_connections", false, 1024, 1, 1000000));
  c.max_requests_per_connection =
      static_cast<uint32_t>(r.num(o, p, "max_requests_per_connection", false, 0, 0, 100000000));
  c.max_concurrent_streams =
      static_cast<uint32_t>(r.num(o, p, "max_concurrent_streams", false, 100, 1, 100000));
  if (const json* es = r.array(o, p, "endpoints"))
    for (size_t i = 0; i < es->size(); ++i) {
      std::string ep = at(p + ".endpoints", i);
      const json& e = (*es)[i];
      if (!r.object(e, ep)) continue;
      r.known(e, ep, {"address", "port", "weight", "labels", "locality", "network"});
      Endpoint endpoint;
      endpoint.address = r.str(e, ep, "address", true);
      if (!r.failed()) {
        if (auto ip = numericAddress(endpoint.address))
          endpoint.ip = *ip;
        else
          r.fail(ep + ".address", "\"" + endpoint.address + "\" is not a numeric IP address");
      }
      endpoint.port = static_cast<uint16_t>(r.num(e, ep, "port", true, 0, 1, 65535));
      endpoint.weight = static_cast<uint32_t>(r.num(e, ep, "weight", false, 1, 1, 1000000));
      if (auto ls = e.find("labels"); ls != e.end()) {
        if (!ls->is_object())
          r.fail(ep + ".labels", "must be an object");
        else
          for (auto l = ls->begin(); l != ls->end(); ++l)
            if (l->is_string())
              endpoint.labels[l.key()] = l->get<std::string>();
            else
              r.fail(ep + ".labels." + l.key(), "must be a string");
      }
      endpoint.locality = r.str(e, ep, "locality", false);
      endpoint.network = r.str(e, ep, "network", false);
      c.endpoints.push_back(std::move(endpoint));
    }
  if (c.original_dst && !c.endpoints.empty())
    r.fail(p + ".endpoints", "an original_dst cluster takes no endpoints");
  readClusterExtras(r, o, p, &c);
  return c;
}

void readLimits(JsonReader& r, const json& o, const std::string& p, Limits* l) {
  r.known(o, p,
          {"max_header_bytes", "max_headers", "max_concurrent_streams", "max_connections",
           "buffer_high_watermark", "stream_idle_timeout_ms", "downstream_idle_timeout_ms"});
  l->max_header_bytes = static_cast<uint32_t>(
      r.num(o, p, "max_header_bytes", false, l->max_header_bytes, 1024, 1024 * 1024));
  l->max_headers =
      static_cast<uint32_t>(r.num(o, p, "max_headers", false, l->max_headers, 8, 10000));
  l->max_concurrent_streams = static_cast<uint32_t>(
      r.num(o, p, "max_concurrent_streams", false, l->max_concurrent_streams, 1, 100000));
  l->max_connections =
      static_cast<uint32_t>(r.num(o, p, "max_connections", false, l->max_connections, 1, 10000000));
  l->buffer_high_watermark = static_cast<uint32_t>(r.num(
      o, p, "buffer_high_watermark", false, l->buffer_high_watermark, 16384, 64 * 1024 * 1024));
  l->stream_idle_timeout = Millis(
      r.num(o, p, "stream_idle_timeout_ms", false, l->stream_idle_timeout.count(), 1, 86400000));
  l->downstream_idle_timeout = Millis(r.num(o, p, "downstream_idle_timeout_ms", false,
                                            l->downstream_idle_timeout.count(), 1, 86400000));
}

// nlohmann reports a byte offset; operators want a line.
std::string lineOf(const std::string& text, size_t byte) {
  size_t line = 1 + std::count(text.begin(), text.begin() + std::min(byte, text.size()), '\n');
  return std::to_string(line);
}

}  // namespace

bool parseCidr(const std::string& text, Cidr* out) {
  std::string addr = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit))
      return false;
    prefix = std::stoi(bits);
  }
  Cidr c;
  if (inet_pton(AF_INET, addr.c_str(), c.bytes) == 1) {
    c.v6 = false;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return false;
  } else if (inet_pton(AF_INET6, addr.c_str(), c.bytes) == 1) {
    c.v6 = true;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return false;
  } else {
    return false;
  }
  c.prefix = prefix;
  *out = c;
  return true;
}

bool cidrContains(const Cidr& cidr, bool v6, const uint8_t* addr) {
  if (cidr.v6 != v6) return false;
  int full = cidr.prefix / 8, rest = cidr.prefix % 8;
  if (std::memcmp(cidr.bytes, addr, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (cidr.bytes[full] & mask) == (addr[full] & mask);
}

const Cluster* Snapshot::findCluster(const std::string& name) const {
  if (!cluster_index.empty()) {
    auto it = cluster_index.find(name);
    return it == cluster_index.end() ? nullptr : &clusters[it->second];
  }
  for (const auto& c : clusters)
    if (c.name == name) return &c;
  return nullptr;
}

void Snapshot::indexClusters() {
  cluster_index.clear();
  for (size_t i = 0; i < clusters.size(); ++i)
    cluster_index.emplace(clusters[i].name, i);
}

Result<SnapshotPtr> parseSnapshot(const std::string& text, const std::string& origin) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again with exceptions only to learn where the syntax breaks; config time only.
    try {
      json ignored = json::parse(text);
    } catch (const json::parse_error& e) {
      return makeError(ErrorCode::kParse, Side::kConfig,
                       origin + ":" + lineOf(text, e.byte) + ": invalid JSON: " + e.what());
    } catch (const json::exception& e) {
      // A number too large for any type ("1e999999") is reported as out_of_range.
      return makeError(ErrorCode::kParse, Side::kConfig, origin + ": invalid JSON: " + e.what());
    }
    return makeError(ErrorCode::kParse, Side::kConfig, origin + ": invalid JSON");
  }
  JsonReader r(origin);
  auto snap = std::make_shared<Snapshot>();
  if (!r.object(doc, "$")) return r.takeError();
  r.known(doc, "$",
          {"schema", "version", "listeners", "http_routes", "tcp_routes", "clusters", "limits",
           "security"});
  uint64_t schema = r.num(doc, "$", "schema", true, 0, 0, 1000);
  if (!r.failed() && schema != kSnapshotSchema)
    r.fail("$.schema", "is " + std::to_string(schema) + "; this proxy reads schema " +
                           std::to_string(kSnapshotSchema));
  snap->version = r.str(doc, "$", "version", true);

  if (const json* ls = r.array(doc, "$", "listeners"))
    for (size_t i = 0; i < ls->size(); ++i) {
      std::string p = at("$.listeners", i);
      const json& o = (*ls)[i];
      if (!r.object(o, p)) continue;
      r.known(o, p,
              {"name", "direction", "address", "port", "use_original_dst", "unmatched",
               "detection_timeout_ms"});
      Listener l;
      l.name = r.str(o, p, "name", true);
      l.direction = readDirection(r, o, p);
      l.address = r.str(o, p, "address", false, "0.0.0.0");
      if (!r.failed() && !numericAddress(l.address))
        r.fail(p + ".address", "\"" + l.address + "\" is not a numeric IP address");
      l.port = static_cast<uint16_t>(r.num(o, p, "port", true, 0, 1, 65535));
      l.use_original_dst = r.boolean(o, p, "use_original_dst", true);
      l.unmatched =
          r.choice(o, p, "unmatched", Unmatched::kPassthrough,
                   {{"passthrough", Unmatched::kPassthrough}, {"refuse", Unmatched::kRefuse}});
      l.detection_timeout = Millis(r.num(o, p, "detection_timeout_ms", false, 1000, 1, 60000));
      snap->listeners.push_back(std::move(l));
    }

  if (const json* ts = r.array(doc, "$", "http_routes"))
    for (size_t i = 0; i < ts->size(); ++i) {
      std::string p = at("$.http_routes", i);
      const json& o = (*ts)[i];
      if (!r.object(o, p)) continue;
      r.known(o, p, {"direction", "port", "virtual_hosts"});
      HttpRouteTable t;
      t.direction = readDirection(r, o, p);
      t.port = static_cast<uint16_t>(r.num(o, p, "port", false, 0, 0, 65535));
      if (const json* vs = r.array(o, p, "virtual_hosts"))
        for (size_t j = 0; j < vs->size(); ++j) {
          std::string vp = at(p + ".virtual_hosts", j);
          const json& v = (*vs)[j];
          if (!r.object(v, vp)) continue;
          r.known(v, vp, {"name", "domains", "routes"});
          VirtualHost vh;
          vh.name = r.str(v, vp, "name", false);
          if (const json* ds = r.array(v, vp, "domains"))
            for (size_t k = 0; k < ds->size(); ++k) {
              if (!(*ds)[k].is_string())
                r.fail(at(vp + ".domains", k), "must be a string");
              else {
                std::string d = (*ds)[k].get<std::string>();
                std::transform(d.begin(), d.end(), d.begin(), ::tolower);
                vh.domains.push_back(std::move(d));
              }
            }
          if (vh.domains.empty()) r.fail(vp + ".domains", "needs at least one domain");
          if (const json* rs = r.array(v, vp, "routes"))
            for (size_t k = 0; k < rs->size(); ++k) {
              std::string rp = at(vp + ".routes", k);
              if (r.object((*rs)[k], rp)) vh.routes.push_back(readRoute(r, (*rs)[k], rp));
            }
          t.virtual_hosts.push_back(std::move(vh));
        }
      snap->http_routes.push_back(std::move(t));
    }

  if (const json* ts = r.array(doc, "$", "tcp_routes"))
    for (size_t i = 0; i < ts->size(); ++i) {
      std::string p = at("$.tcp_routes", i);
      const json& o = (*ts)[i];
      if (!r.object(o, p)) continue;
      r.known(o, p, {"direction", "port", "destinations", "sni", "cluster", "weighted_clusters"});
      TcpRoute t;
      t.direction = readDirection(r, o, p);
      t.port = static_cast<uint16_t>(r.num(o, p, "port", false, 0, 0, 65535));
      if (const json* ds = r.array(o, p, "destinations"))
        for (size_t k = 0; k < ds->size(); ++k) {
          Cidr c;
          if (!(*ds)[k].is_string() || !parseCidr((*ds)[k].get<std::string>(), &c))
            r.fail(at(p + ".destinations", k), "must be an address or CIDR");
          else
            t.destinations.push_back(c);
        }
      if (const json* ss = r.array(o, p, "sni"))
        for (size_t k = 0; k < ss->size(); ++k) {
          if (!(*ss)[k].is_string())
            r.fail(at(p + ".sni", k), "must be a string");
          else
            t.sni.push_back((*ss)[k].get<std::string>());
        }
      t.cluster = r.str(o, p, "cluster", true);
      if (const json* ws = r.array(o, p, "weighted_clusters"))
        for (size_t k = 0; k < ws->size(); ++k) {
          std::string wp = at(p + ".weighted_clusters", k);
          if (!r.object((*ws)[k], wp)) continue;
          r.known((*ws)[k], wp, {"cluster", "weight"});
          t.weighted_clusters.push_back(
              {r.str((*ws)[k], wp, "cluster", true),
               static_cast<uint32_t>(r.num((*ws)[k], wp, "weight", false, 1, 0, 1000000))});
        }
      snap->tcp_routes.push_back(std::move(t));
    }

  if (const json* cs = r.array(doc, "$", "clusters"))
    for (size_t i = 0; i < cs->size(); ++i) {
      std::string p = at("$.clusters", i);
      if (r.object((*cs)[i], p)) snap->clusters.push_back(readCluster(r, (*cs)[i], p));
    }

  if (auto l = doc.find("limits"); l != doc.end() && r.object(*l, "$.limits"))
    readLimits(r, *l, "$.limits", &snap->limits);

  if (r.failed()) return r.takeError();

  if (auto sec = doc.find("security"); sec != doc.end()) {
    auto security = parseSecurityConfig(*sec, origin);
    if (!security) return security.error();
    snap->security = std::move(*security);
  }

  // Cross references: every name a route uses must exist, and names must be unique.
  std::set<std::string> names;
  for (size_t i = 0; i < snap->clusters.size(); ++i)
    if (!names.insert(snap->clusters[i].name).second)
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       origin + ": field " + at("$.clusters", i) + ".name: duplicate cluster \"" +
                           snap->clusters[i].name + "\"");
  std::set<std::pair<std::string, uint16_t>> binds;
  for (size_t i = 0; i < snap->listeners.size(); ++i)
    if (!binds.insert({snap->listeners[i].address, snap->listeners[i].port}).second)
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       origin + ": field " + at("$.listeners", i) +
                           ".port: " + snap->listeners[i].address + ":" +
                           std::to_string(snap->listeners[i].port) + " is used twice");
  for (size_t i = 0; i < snap->http_routes.size(); ++i)
    for (size_t j = 0; j < snap->http_routes[i].virtual_hosts.size(); ++j)
      for (size_t k = 0; k < snap->http_routes[i].virtual_hosts[j].routes.size(); ++k)
        for (size_t c = 0; c < snap->http_routes[i].virtual_hosts[j].routes[k].clusters.size();
             ++c) {
          const auto& name = snap->http_routes[i].virtual_hosts[j].routes[k].clusters[c].cluster;
          if (!names.count(name))
            return makeError(
                ErrorCode::kInvalidArgument, Side::kConfig,
                origin + ": field " +
                    at(at(at(at("$.http_routes", i) + ".virtual_hosts", j) + ".routes", k) +
                           ".clusters",
                       c) +
                    ".cluster: no cluster named \"" + name + "\"");
        }
  for (size_t i = 0; i < snap->http_routes.size(); ++i)
    for (size_t j = 0; j < snap->http_routes[i].virtual_hosts.size(); ++j)
      for (size_t k = 0; k < snap->http_routes[i].virtual_hosts[j].routes.size(); ++k)
        for (const auto& m : snap->http_routes[i].virtual_hosts[j].routes[k].mirrors)
          if (!names.count(m.cluster))
            return makeError(
                ErrorCode::kInvalidArgument, Side::kConfig,
                origin + ": field " +
                    at(at(at("$.http_routes", i) + ".virtual_hosts", j) + ".routes", k) +
                    ".mirrors: no cluster named \"" + m.cluster + "\"");
  for (size_t i = 0; i < snap->tcp_routes.size(); ++i)
    for (const auto& w : snap->tcp_routes[i].weighted_clusters)
      if (!names.count(w.cluster))
        return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                         origin + ": field " + at("$.tcp_routes", i) +
                             ".weighted_clusters: no cluster named \"" + w.cluster + "\"");
  for (size_t i = 0; i < snap->tcp_routes.size(); ++i)
    if (!names.count(snap->tcp_routes[i].cluster))
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       origin + ": field " + at("$.tcp_routes", i) +
                           ".cluster: no cluster named \"" + snap->tcp_routes[i].cluster + "\"");

  snap->indexClusters();
  snap->source_json = doc.dump(2);
  return SnapshotPtr(std::move(snap));
}

Result<SnapshotPtr> loadSnapshotFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return Error(text.error());
  return parseSnapshot(*text, path);
}

}  // namespace meshnode::proxy
