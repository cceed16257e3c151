#include "proxy/router/router.h"

#include <re2/re2.h>

#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::proxy {
namespace {

std::string_view withoutPort(std::string_view authority) {
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(':') != colon) return authority;
  return authority.substr(0, colon);
}

bool startsWith(std::string_view s, std::string_view p, bool icase) {
  if (s.size() < p.size()) return false;
  return icase ? equalsIgnoreCase(s.substr(0, p.size()), p) : s.substr(0, p.size()) == p;
}

const VirtualHost* selectFor(const HttpRouteTable& table, const std::string& host) {
  const VirtualHost* suffix = nullptr;
  const VirtualHost* prefix = nullptr;
  const VirtualHost* any = nullptr;
  size_t suffix_len = 0, prefix_len = 0;
  for (const auto& vh : table.virtual_hosts) {
    for (const auto& d : vh.domains) {
      if (d == host) return &vh;
      if (d == "*") {
        if (!any) any = &vh;
      } else if (d.size() > 1 && d[0] == '*') {
        std::string_view tail = std::string_view(d).substr(1);
        if (host.size() > tail.size() && host.ends_with(tail) && tail.size() > suffix_len) {
          suffix = &vh;
          suffix_len = tail.size();
        }
      } else if (d.size() > 1 && d.back() == '*') {
        std::string_view head = std::string_view(d).substr(0, d.size() - 1);
        if (host.size() > head.size() && host.starts_with(head) && head.size() > prefix_len) {
          prefix = &vh;
          prefix_len = head.size();
        }
      }
    }
  }
  return suffix ? suffix : prefix ? prefix : any;
}

std::string_view queryValue(std::string_view path, std::string_view name, bool* found) {
  *found = false;
  size_t q = path.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = path.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      *found = true;
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

const HttpRouteTable* findRouteTable(const Snapshot& snapshot, Direction direction, uint16_t port) {
  const HttpRouteTable* any = nullptr;
  for (const auto& t : snapshot.http_routes) {
    if (t.direction != direction) continue;
    if (t.port == port) return &t;
    if (t.port == 0 && !any) any = &t;
  }
  return any;
}

const VirtualHost* selectVirtualHost(const HttpRouteTable& table, std::string_view authority) {
  std::string host = lowerCase(authority);
  if (const VirtualHost* vh = selectFor(table, host)) {
    // An exact match with the port wins; otherwise retry without it before settling for "*".
    bool exact = false;
    for (const auto& d : vh->domains)
      exact = exact || d == host;
    if (exact) return vh;
    std::string bare(withoutPort(host));
    if (bare != host) {
      const VirtualHost* other = selectFor(table, bare);
      if (other) {
        for (const auto& d : other->domains)
          if (d == bare) return other;
      }
    }
    return vh;
  }
  std::string bare(withoutPort(host));
  return bare != host ? selectFor(table, bare) : nullptr;
}

bool matchString(const StringMatch& m, std::string_view value) {
  switch (m.kind) {
    case StringMatchKind::kExact:
      return m.ignore_case ? equalsIgnoreCase(value, m.value) : value == m.value;
    case StringMatchKind::kPrefix:
      return startsWith(value, m.value, m.ignore_case);
    case StringMatchKind::kRegex:
      return m.regex && RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *m.regex);
    case StringMatchKind::kPresent:
    case StringMatchKind::kAbsent:
      return true;
  }
  return false;
}

bool matchRoute(const RouteMatch& match, const RequestHead& request) {
  std::string_view path = request.path;
  path = path.substr(0, path.find('?'));
  if (match.path && !matchString(*match.path, path)) return false;
  for (const auto& h : match.headers) {
    const std::string* value = nullptr;
    if (h.name == ":method")
      value = &request.method;
    else if (h.name == ":authority" || h.name == "host")
      value = &request.authority;
    else if (h.name == ":scheme")
      value = &request.scheme;
    else if (h.name == ":path")
      value = &request.path;
    else
      value = findHeader(request.headers, h.name);
    bool ok;
    if (h.match.kind == StringMatchKind::kAbsent)
      ok = value == nullptr;
    else
      ok = value != nullptr && matchString(h.match, *value);
    if (ok == h.invert) return false;
  }
  for (const auto& [name, m] : match.query_params) {
    bool found = false;
    std::string_view v = queryValue(request.path, name, &found);
    bool ok = m.kind == StringMatchKind::kAbsent ? !found : found && matchString(m, v);
    if (!ok) return false;
  }
  return true;
}

const Route* selectRoute(const VirtualHost& vhost, const RequestHead& request) {
  for (const auto& r : vhost.routes)
    if (matchRoute(r.match, request)) return &r;
  return nullptr;
}

const std::string& pickCluster(const Route& route, std::mt19937& rng) {
  if (route.clusters.size() == 1) return route.clusters[0].cluster;
  uint64_t total = 0;
  for (const auto& c : route.clusters)
    total += c.weight;
  if (total == 0) return route.clusters[0].cluster;
  uint64_t pick = std::uniform_int_distribution<uint64_t>(0, total - 1)(rng);
  for (const auto& c : route.clusters) {
    if (pick < c.weight) return c.cluster;
    pick -= c.weight;
  }
  return route.clusters.back().cluster;
}

const TcpRoute* findTcpRoute(const Snapshot& snapshot, Direction direction, uint16_t port, bool v6,
                             const uint8_t* address, const std::string* sni) {
  for (const auto& r : snapshot.tcp_routes) {
    if (r.direction != direction || (r.port != 0 && r.port != port)) continue;
    if (!r.sni.empty()) {
      if (!sni) continue;
      bool hit = false;
      for (const auto& name : r.sni) {
        if (name == *sni || name == "*")
          hit = true;
        else if (name.size() > 1 && name[0] == '*' && sni->size() > name.size() - 1 &&
                 sni->ends_with(std::string_view(name).substr(1)))
          hit = true;
      }
      if (!hit) continue;
    }
    if (!r.destinations.empty()) {
      bool hit = false;
      for (const auto& c : r.destinations)
        hit = hit || (address && cidrContains(c, v6, address));
      if (!hit) continue;
    }
    return &r;
  }
  return nullptr;
}

}  // namespace meshnode::proxy
