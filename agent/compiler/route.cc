#include "agent/compiler/route.h"

#include <algorithm>

#include "agent/compiler/cluster.h"

namespace meshnode::compiler {
namespace {

using nlohmann::json;

json stringMatch(const istio::StringMatch& m) {
  switch (m.kind) {
    case istio::StringMatch::Kind::kExact:
      return {{"exact", m.value}};
    case istio::StringMatch::Kind::kPrefix:
      return {{"prefix", m.value}};
    case istio::StringMatch::Kind::kRegex:
      return {{"regex", m.value}};
    case istio::StringMatch::Kind::kPresent:
      break;
  }
  return {{"present", true}};
}

json headerOps(const istio::HeaderOperations& ops) {
  json o = json::object();
  for (const auto& [k, v] : ops.set)
    o["set"][k] = v;
  for (const auto& [k, v] : ops.add)
    o["add"][k] = v;
  if (!ops.remove.empty()) o["remove"] = ops.remove;
  return o;
}

void mergeOps(const istio::HeaderOperations& from, istio::HeaderOperations* into) {
  into->set.insert(into->set.end(), from.set.begin(), from.set.end());
  into->add.insert(into->add.end(), from.add.begin(), from.add.end());
  into->remove.insert(into->remove.end(), from.remove.begin(), from.remove.end());
}

bool empty(const istio::HeaderOperations& ops) {
  return ops.set.empty() && ops.add.empty() && ops.remove.empty();
}

// istiod's retry policy for routes that name none.
json defaultRetries() {
  return {
      {"attempts", 2},
      {"retry_on",
       {"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}},
      {"retriable_status_codes", {503}}};
}

json retries(const istio::HttpRetry& r) {
  json out = {{"attempts", r.attempts}};
  if (r.per_try_timeout_ms) out["per_try_timeout_ms"] = r.per_try_timeout_ms;
  if (r.retry_on.empty()) {
    json d = defaultRetries();
    out["retry_on"] = d["retry_on"];
    out["retriable_status_codes"] = d["retriable_status_codes"];
    return out;
  }
  std::vector<std::string> on;
  std::vector<int> codes;
  size_t start = 0;
  while (start <= r.retry_on.size()) {
    size_t comma = r.retry_on.find(',', start);
    std::string item =
        r.retry_on.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty() && std::all_of(item.begin(), item.end(), ::isdigit))
      codes.push_back(std::stoi(item));
    else if (!item.empty() && std::find(on.begin(), on.end(), item) == on.end())
      on.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  // A bare status code in retryOn means "retry on this code", as Istio translates it.
  if (!codes.empty() && std::find(on.begin(), on.end(), "retriable-status-codes") == on.end())
    on.push_back("retriable-status-codes");
  out["retry_on"] = on;
  if (!codes.empty()) out["retriable_status_codes"] = codes;
  return out;
}

}  // namespace

std::string where(const istio::VirtualService& vs) {
  return vs.meta.file + ":" + std::to_string(vs.meta.line) + ": VirtualService " + vs.meta.id();
}

std::vector<std::string> virtualHostDomains(const Service& service, uint32_t port,
                                            const std::string& node_ns,
                                            const std::string& domain_suffix) {
  std::vector<std::string> out;
  auto add = [&](const std::string& d) {
    for (const std::string& v : {d, d + ":" + std::to_string(port)})
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  };
  const std::string& h = service.hostname;
  add(h);
  std::string suffix = ".svc." + domain_suffix;
  if (h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
    std::string name_ns = h.substr(0, h.size() - suffix.size());  // "reviews.default"
    size_t dot = name_ns.find('.');
    if (dot != std::string::npos) {
      add(name_ns + ".svc");
      add(name_ns);
      if (name_ns.substr(dot + 1) == node_ns) add(name_ns.substr(0, dot));
    }
  }
  for (const auto& a : service.addresses)
    if (isIpAddress(a)) add(a.find(':') != std::string::npos ? "[" + a + "]" : a);
  return out;
}

RouteBuilder::RouteBuilder(const CompileInput& input, const Registry& registry,
                           const istio::Labels& node_labels, std::set<std::string>* referenced,
                           std::vector<std::string>* warnings)
    : input_(input),
      registry_(registry),
      node_labels_(node_labels),
      referenced_(referenced),
      warnings_(warnings) {
  // Exact hosts bind before wildcards; among equals the first virtual service read wins.
  std::vector<std::pair<const istio::VirtualService*, std::string>> wildcards;
  for (const auto& vs : input.resources->virtual_services) {
    if (!registry.exported(vs.export_to, vs.meta.ns)) continue;
    if (!vs.gateways.empty() &&
        std::find(vs.gateways.begin(), vs.gateways.end(), "mesh") == vs.gateways.end())
      continue;
    for (const auto& raw : vs.hosts) {
      std::string host = registry.qualify(raw, vs.meta.ns);
      if (!registry.inEgress(vs.meta.ns, host)) continue;
      if (host[0] == '*') {
        wildcards.emplace_back(&vs, host);
        continue;
      }
      if (!registry.find(host)) {
        warnings->push_back(where(vs) + ": host " + host +
                            " is not a service this node can see; its routes are not compiled");
        continue;
      }
      if (!bound_.emplace(host, &vs).second && bound_[host] != &vs)
        warnings->push_back(where(vs) + ": host " + host + " is already routed by VirtualService " +
                            bound_[host]->meta.id() + "; this one is ignored for it");
    }
  }
  for (const auto& [vs, pattern] : wildcards) {
    bool any = false;
    for (const auto& s : registry.services())
      if (hostMatches(pattern, s.hostname)) {
        bound_.emplace(s.hostname, vs);
        any = true;
      }
    if (!any)
      warnings->push_back(where(*vs) + ": host " + pattern +
                          " matches no service this node can see");
  }
}

const istio::VirtualService* RouteBuilder::virtualServiceFor(const std::string& hostname) const {
  auto it = bound_.find(hostname);
  return it == bound_.end() ? nullptr : it->second;
}

bool RouteBuilder::applies(const std::vector<std::string>& gateways,
                           const istio::Labels& source_labels, const std::string& source_namespace,
                           uint32_t match_port, uint32_t port) const {
  if (!gateways.empty() && std::find(gateways.begin(), gateways.end(), "mesh") == gateways.end())
    return false;
  if (match_port && match_port != port) return false;
  // Source conditions are facts about this node, so istiod settles them at compile time.
  if (!labelsMatch(source_labels, node_labels_)) return false;
  if (!source_namespace.empty() && source_namespace != input_.node.ns) return false;
  return true;
}

std::string RouteBuilder::destinationCluster(const istio::Destination& d, const std::string& ns,
                                             uint32_t listener_port,
                                             const std::string& context) const {
  std::string host = registry_.find(d.host) ? d.host : registry_.qualify(d.host, ns);
  const Service* target = registry_.find(host);
  uint32_t port = d.port;
  if (!port && target && target->ports.size() == 1) port = target->ports[0].number;
  if (!port) port = listener_port;
  std::string name = outboundClusterName(port, d.subset, host);
  if (!target)
    warnings_->push_back(context + ": destination " + host +
                         " is not a service this node can see; requests to it fail with 503");
  referenced_->insert(name);
  return name;
}

json RouteBuilder::httpRoute(const istio::VirtualService& vs, const istio::HttpRoute& r,
                             const istio::HttpMatch* m, size_t index, const Service& service,
                             uint32_t port) const {
  std::string context = where(vs) + ": spec.http[" + std::to_string(index) + "]";
  json route = json::object();
  route["name"] = r.name.empty() ? vs.meta.id() + "/http[" + std::to_string(index) + "]" : r.name;
  json match = json::object();
  if (m) {
    if (m->uri && m->uri->kind != istio::StringMatch::Kind::kPresent) {
      match["path"] = stringMatch(*m->uri);
      if (m->ignore_uri_case) match["path"]["ignore_case"] = true;
    }
    json headers = json::array();
    auto pseudo = [&](const char* name, const std::optional<istio::StringMatch>& sm) {
      if (!sm) return;
      json h = stringMatch(*sm);
      h["name"] = name;
      headers.push_back(h);
    };
    pseudo(":scheme", m->scheme);
    pseudo(":method", m->method);
    pseudo(":authority", m->authority);
    for (const auto& [name, sm] : m->headers) {
      json h = stringMatch(sm);
      h["name"] = name;
      headers.push_back(h);
    }
    for (const auto& [name, sm] : m->without_headers) {
      json h;
      if (sm.kind == istio::StringMatch::Kind::kPresent) {
        h = {{"absent", true}};
      } else {
        h = stringMatch(sm);
        h["invert"] = true;
      }
      h["name"] = name;
      headers.push_back(h);
    }
    if (!headers.empty()) match["headers"] = headers;
    json query = json::array();
    for (const auto& [name, sm] : m->query_params) {
      json q = stringMatch(sm);
      q["name"] = name;
      query.push_back(q);
    }
    if (!query.empty()) match["query_params"] = query;
  }
  if (!match.empty()) route["match"] = match;

  istio::HeaderOperations request = r.headers.request, response = r.headers.response;
  if (!r.route.empty()) {
    json clusters = json::array();
    for (size_t i = 0; i < r.route.size(); ++i) {
      const auto& d = r.route[i];
      uint32_t weight = d.weight.value_or(r.route.size() == 1 ? 100 : 0);
      // istiod leaves zero-weight destinations out of the split.
      if (weight == 0 && r.route.size() > 1) continue;
      clusters.push_back(
          {{"cluster", destinationCluster(d.destination, vs.meta.ns, port,
                                          context + ".route[" + std::to_string(i) + "]")},
           {"weight", weight == 0 ? 100 : weight}});
      if (!empty(d.headers.request) || !empty(d.headers.response)) {
        if (r.route.size() == 1) {
          mergeOps(d.headers.request, &request);
          mergeOps(d.headers.response, &response);
        } else {
          warnings_->push_back(context + ".route[" + std::to_string(i) +
                               "].headers: per-destination headers of a split are applied to "
                               "the whole route");
          mergeOps(d.headers.request, &request);
          mergeOps(d.headers.response, &response);
        }
      }
    }
    route["clusters"] = clusters;
    json rt = r.retries ? retries(*r.retries) : defaultRetries();
    if (rt["attempts"] != 0) route["retries"] = rt;
  } else if (r.redirect) {
    json red = {{"status", r.redirect->code}};
    if (!r.redirect->scheme.empty()) red["scheme"] = r.redirect->scheme;
    std::string authority = r.redirect->authority;
    if (r.redirect->port) {
      // The snapshot's redirect has no port of its own: name the service's host with it.
      if (authority.empty()) {
        authority = service.hostname;
        warnings_->push_back(context +
                             ".redirect.port: without an authority the redirect names the "
                             "service's host " +
                             service.hostname);
      }
      authority += ":" + std::to_string(r.redirect->port);
    }
    if (!authority.empty()) red["authority"] = authority;
    if (!r.redirect->uri.empty()) red["path"] = r.redirect->uri;
    route["redirect"] = red;
  } else if (r.direct_response) {
    route["direct_response"] = {{"status", r.direct_response->status}};
    if (!r.direct_response->body.empty())
      route["direct_response"]["body"] = r.direct_response->body;
  }
  if (r.rewrite) {
    if (!r.rewrite->uri.empty()) route["prefix_rewrite"] = r.rewrite->uri;
    if (!r.rewrite->authority.empty()) route["host_rewrite"] = r.rewrite->authority;
  }
  if (r.timeout_ms && *r.timeout_ms > 0) route["timeout_ms"] = *r.timeout_ms;
  if (!empty(request)) route["request_headers"] = headerOps(request);
  if (!empty(response)) route["response_headers"] = headerOps(response);
  if (r.fault) {
    json f = json::object();
    if (r.fault->delay_ms) {
      f["delay_ms"] = *r.fault->delay_ms;
      f["delay_percent"] = r.fault->delay_percent;
    }
    if (r.fault->abort_status) {
      f["abort_status"] = *r.fault->abort_status;
      f["abort_percent"] = r.fault->abort_percent;
    }
    route["fault"] = f;
  }
  if (!r.mirrors.empty()) {
    json mirrors = json::array();
    for (const auto& mi : r.mirrors)
      mirrors.push_back(
          {{"cluster", destinationCluster(mi.destination, vs.meta.ns, port, context + ".mirror")},
           {"percent", mi.percent}});
    route["mirrors"] = mirrors;
  }
  if (r.cors) {
    json c = json::object();
    json origins = json::array();
    for (const auto& o : r.cors->allow_origins)
      origins.push_back(stringMatch(o));
    if (!origins.empty()) c["allow_origins"] = origins;
    if (!r.cors->allow_methods.empty()) c["allow_methods"] = r.cors->allow_methods;
    if (!r.cors->allow_headers.empty()) c["allow_headers"] = r.cors->allow_headers;
    if (!r.cors->expose_headers.empty()) c["expose_headers"] = r.cors->expose_headers;
    if (r.cors->max_age_ms) c["max_age_ms"] = r.cors->max_age_ms;
    if (r.cors->allow_credentials) c["allow_credentials"] = *r.cors->allow_credentials;
    route["cors"] = c;
  }
  return route;
}

json RouteBuilder::virtualHost(const Service& service, const istio::ServicePort& port) const {
  json vh = {{"name", service.hostname + ":" + std::to_string(port.number)},
             {"domains", virtualHostDomains(service, port.number, input_.node.ns,
                                            input_.options.domain_suffix)}};
  json routes = json::array();
  const istio::VirtualService* vs = virtualServiceFor(service.hostname);
  if (vs) {
    for (size_t i = 0; i < vs->http.size(); ++i) {
      const auto& r = vs->http[i];
      if (r.match.empty()) {
        routes.push_back(httpRoute(*vs, r, nullptr, i, service, port.number));
        continue;
      }
      for (const auto& m : r.match)
        if (applies(m.gateways, m.source_labels, m.source_namespace, m.port, port.number))
          routes.push_back(httpRoute(*vs, r, &m, i, service, port.number));
    }
  }
  if (!vs || vs->http.empty()) {
    std::string cluster = outboundClusterName(port.number, "", service.hostname);
    referenced_->insert(cluster);
    routes.push_back({{"name", "default"},
                      {"clusters", {{{"cluster", cluster}, {"weight", 100}}}},
                      {"retries", defaultRetries()}});
  }
  vh["routes"] = routes;
  return vh;
}

}  // namespace meshnode::compiler
