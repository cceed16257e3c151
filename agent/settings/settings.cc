#include "agent/settings/settings.h"

#include <algorithm>
#include <functional>

#include <arpa/inet.h>
#include <toml++/toml.h>

#include "agent/settings/default_route.h"
#include "agent/settings/did_you_mean.h"
#include "agent/settings/resolv_conf.h"
#include "common/file.h"

namespace meshnode::agent {
namespace {

SourcePosition positionOf(const toml::source_region& region) {
  return SourcePosition{region.begin.line, region.begin.column};
}

bool isDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

bool isDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    if (!isDnsLabel(s.substr(start, dot - start))) return false;
    start = dot + 1;
  }
  return true;
}

bool isIpAddress(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "198.18.0.1", "198.18.0.1:53", "::1", "[::1]:53".
bool isResolverAddress(const std::string& s) {
  if (isIpAddress(s)) return true;
  std::string host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find("]:");
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int p = std::stoi(port);
  return isIpAddress(host) && p > 0 && p < 65536;
}

// Walks the parsed document, reading known keys into AgentSettings and recording every
// problem with its position.
class Reader {
 public:
  Reader(std::string file, AgentSettings& out, std::vector<Problem>& problems)
      : file_(std::move(file)), out_(out), problems_(problems) {}

  void problem(const std::string& key, SourcePosition pos, std::string message) {
    problems_.push_back(Problem{file_, pos, key, std::move(message)});
  }

  // Reports keys of `table` outside `known`, with a suggestion.
  void unknownKeys(const toml::table& table, const std::string& prefix,
                   const std::vector<std::string>& known) {
    for (auto&& [k, v] : table) {
      std::string name(k.str());
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      std::string message = "unknown key";
      std::string hint = closestMatch(name, known);
      if (!hint.empty()) message += "; did you mean '" + prefix + hint + "'?";
      problem(prefix + name, positionOf(k.source()), message);
    }
  }

  const toml::table* table(const toml::table& parent, const std::string& name,
                           const std::string& key) {
    const toml::node* n = parent.get(name);
    if (n == nullptr) return nullptr;
    record(key, *n);
    if (!n->is_table()) {
      problem(key, positionOf(n->source()), "must be a table ([" + key + "])");
      return nullptr;
    }
    return n->as_table();
  }

  void string(const toml::table& t, const std::string& name, const std::string& key,
              std::string& into) {
    const toml::node* n = t.get(name);
    if (n == nullptr) return;
    record(key, *n);
    if (auto s = n->value<std::string>(); s && n->is_string()) {
      into = *s;
    } else {
      problem(key, positionOf(n->source()), "must be a string");
    }
  }

  void boolean(const toml::table& t, const std::string& name, const std::string& key, bool& into) {
    const toml::node* n = t.get(name);
    if (n == nullptr) return;
    record(key, *n);
    if (n->is_boolean()) {
      into = *n->value<bool>();
    } else {
      problem(key, positionOf(n->source()), "must be true or false");
    }
  }

  template <typename Int>
  void integer(const toml::table& t, const std::string& name, const std::string& key, int64_t min,
               int64_t max, Int& into) {
    const toml::node* n = t.get(name);
    if (n == nullptr) return;
    record(key, *n);
    if (!n->is_integer()) {
      problem(key, positionOf(n->source()), "must be an integer");
      return;
    }
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) {
      problem(key, positionOf(n->source()),
              "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
                  std::to_string(v));
      return;
    }
    into = static_cast<Int>(v);
  }

  void strings(const toml::table& t, const std::string& name, const std::string& key,
               std::vector<std::string>& into) {
    const toml::node* n = t.get(name);
    if (n == nullptr) return;
    record(key, *n);
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      problem(key, positionOf(n->source()), "must be an array of strings");
      return;
    }
    std::vector<std::string> values;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = *a->get(i);
      if (!e.is_string()) {
        problem(key + "[" + std::to_string(i) + "]", positionOf(e.source()), "must be a string");
        continue;
      }
      values.push_back(*e.value<std::string>());
    }
    into = std::move(values);
  }

  // Where `key` was written; for a key left out, where its table was, so the operator knows
  // where to add it.
  SourcePosition at(const std::string& key) const {
    std::string k = key;
    for (;;) {
      auto it = out_.positions.find(k);
      if (it != out_.positions.end()) return it->second;
      auto dot = k.rfind('.');
      if (dot == std::string::npos) return SourcePosition{};
      k.resize(dot);
    }
  }

 private:
  void record(const std::string& key, const toml::node& n) {
    out_.positions[key] = positionOf(n.source());
  }

  std::string file_;
  AgentSettings& out_;
  std::vector<Problem>& problems_;
};

// Flattens a capture value to the text its command-line flag would take.
std::optional<std::string> flagValue(const toml::node& n) {
  if (auto s = n.value<std::string>(); s && n.is_string()) return *s;
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (n.is_integer()) return std::to_string(*n.value<int64_t>());
  if (const toml::array* a = n.as_array()) {
    std::string joined;
    for (const auto& e : *a) {
      auto part = flagValue(e);
      if (!part || e.is_array()) return std::nullopt;
      if (!joined.empty()) joined += ',';
      joined += *part;
    }
    return joined;
  }
  return std::nullopt;
}

void readDocument(const toml::table& root, Reader& r, AgentSettings& s) {
  r.unknownKeys(root, "",
                {"workload", "mesh", "config", "registry", "capture", "dns", "proxy", "paths"});

  if (const toml::table* t = r.table(root, "workload", "workload")) {
    r.unknownKeys(*t, "workload.", {"group", "namespace", "address", "network", "service_account"});
    r.string(*t, "group", "workload.group", s.workload.group);
    r.string(*t, "namespace", "workload.namespace", s.workload.name_space);
    r.string(*t, "address", "workload.address", s.workload.address);
    r.string(*t, "network", "workload.network", s.workload.network);
    r.string(*t, "service_account", "workload.service_account", s.workload.service_account);
  }
  if (const toml::table* t = r.table(root, "mesh", "mesh")) {
    r.unknownKeys(*t, "mesh.", {"trust_domain"});
    r.string(*t, "trust_domain", "mesh.trust_domain", s.trust_domain);
  }
  if (const toml::table* t = r.table(root, "config", "config")) {
    r.unknownKeys(*t, "config.",
                  {"source", "directory", "api_server", "token_file", "ca_file", "domain_suffix"});
    r.string(*t, "source", "config.source", s.config.type);
    r.string(*t, "directory", "config.directory", s.config.directory);
    r.string(*t, "api_server", "config.api_server", s.config.api_server);
    r.string(*t, "token_file", "config.token_file", s.config.token_file);
    r.string(*t, "ca_file", "config.ca_file", s.config.ca_file);
    r.string(*t, "domain_suffix", "config.domain_suffix", s.config.domain_suffix);
  }
  if (const toml::table* t = r.table(root, "registry", "registry")) {
    r.unknownKeys(*t, "registry.", {"type", "directory", "api_server", "token_file", "ca_file"});
    std::string type = "file";
    r.string(*t, "type", "registry.type", type);
    if (type == "file") {
      s.registry.type = RegistrySettings::Type::kFile;
    } else if (type == "kubernetes") {
      s.registry.type = RegistrySettings::Type::kKubernetes;
    } else {
      r.problem("registry.type", r.at("registry.type"),
                "must be \"file\" or \"kubernetes\", not \"" + type + "\"");
    }
    r.string(*t, "directory", "registry.directory", s.registry.directory);
    r.string(*t, "api_server", "registry.api_server", s.registry.api_server);
    r.string(*t, "token_file", "registry.token_file", s.registry.token_file);
    r.string(*t, "ca_file", "registry.ca_file", s.registry.ca_file);
  }
  if (const toml::table* t = r.table(root, "capture", "capture")) {
    for (auto&& [k, v] : *t) {
      std::string key = "capture." + std::string(k.str());
      s.positions[key] = positionOf(k.source());
      if (auto value = flagValue(v)) {
        s.capture[std::string(k.str())] = *value;
      } else {
        r.problem(key, positionOf(v.source()),
                  "must be a string, integer, boolean or array of those");
      }
    }
  }
  if (const toml::table* t = r.table(root, "dns", "dns")) {
    r.unknownKeys(*t, "dns.",
                  {"enabled", "listen_address", "listen_port", "upstreams", "search_domains",
                   "ttl_floor", "ttl_ceiling", "mesh_ttl"});
    r.boolean(*t, "enabled", "dns.enabled", s.dns.enabled);
    r.string(*t, "listen_address", "dns.listen_address", s.dns.listen_address);
    r.integer(*t, "listen_port", "dns.listen_port", 1, 65535, s.dns.listen_port);
    r.strings(*t, "upstreams", "dns.upstreams", s.dns.upstreams);
    r.strings(*t, "search_domains", "dns.search_domains", s.dns.search_domains);
    r.integer(*t, "ttl_floor", "dns.ttl_floor", 0, 86400, s.dns.ttl_floor);
    r.integer(*t, "ttl_ceiling", "dns.ttl_ceiling", 0, 86400, s.dns.ttl_ceiling);
    r.integer(*t, "mesh_ttl", "dns.mesh_ttl", 0, 86400, s.dns.mesh_ttl);
  }
  if (const toml::table* t = r.table(root, "proxy", "proxy")) {
    r.unknownKeys(*t, "proxy.", {"binary", "snapshot", "user", "concurrency", "admin_port"});
    r.string(*t, "binary", "proxy.binary", s.proxy.binary);
    r.string(*t, "snapshot", "proxy.snapshot", s.proxy.snapshot);
    r.string(*t, "user", "proxy.user", s.proxy.user);
    r.integer(*t, "concurrency", "proxy.concurrency", 1, 256, s.proxy.concurrency);
    r.integer(*t, "admin_port", "proxy.admin_port", 1, 65535, s.proxy.admin_port);
  }
  if (const toml::table* t = r.table(root, "paths", "paths")) {
    r.unknownKeys(*t, "paths.", {"state_dir", "run_dir", "certs_dir"});
    r.string(*t, "state_dir", "paths.state_dir", s.paths.state_dir);
    r.string(*t, "run_dir", "paths.run_dir", s.paths.run_dir);
    r.string(*t, "certs_dir", "paths.certs_dir", s.paths.certs_dir);
  }
}

// The Kubernetes source's keys, after taking [registry]'s for those left unset. A key taken from
// [registry] is reported under its own name, where the operator wrote it.
void validateKubernetesSource(Reader& r, AgentSettings& s) {
  ConfigSourceSettings& c = s.config;
  auto inherit = [&](std::string& value, const std::string& key, const std::string& from) {
    if (!value.empty()) return key;
    value = from;
    return "registry." + key.substr(std::string("config.").size());
  };
  std::string server_key = inherit(c.api_server, "config.api_server", s.registry.api_server);
  std::string token_key = inherit(c.token_file, "config.token_file", s.registry.token_file);
  std::string ca_key = inherit(c.ca_file, "config.ca_file", s.registry.ca_file);
  if (c.api_server.empty()) {
    r.problem("config.api_server", r.at("config.source"),
              "is required when config.source is \"kubernetes\" (or set registry.api_server)");
  } else if (c.api_server.rfind("https://", 0) != 0 || c.api_server.size() <= 8) {
    r.problem(server_key, r.at(server_key),
              "must be an https:// URL, not \"" + c.api_server + "\"");
  }
  for (const auto& [key, path] : {std::pair{token_key, c.token_file}, {ca_key, c.ca_file}}) {
    if (path.empty() || path.front() != '/')
      r.problem(key, r.at(key), "must be an absolute path, not \"" + path + "\"");
  }
  if (!isDnsName(c.domain_suffix)) {
    r.problem("config.domain_suffix", r.at("config.domain_suffix"),
              "must be a lowercase DNS name, not \"" + c.domain_suffix + "\"");
  }
}

// Checks that span keys, and fills defaults that depend on the host or on other keys.
void validate(Reader& r, AgentSettings& s, const HostFacts& host) {
  auto at = [&](const std::string& key) { return r.at(key); };
  if (s.workload.group.empty()) {
    r.problem("workload.group", at("workload.group"), "is required");
  } else if (!isDnsName(s.workload.group)) {
    r.problem("workload.group", at("workload.group"),
              "must be a lowercase DNS name (a-z, 0-9, '-', '.')");
  }
  if (s.workload.name_space.empty()) {
    r.problem("workload.namespace", at("workload.namespace"), "is required");
  } else if (!isDnsLabel(s.workload.name_space)) {
    r.problem("workload.namespace", at("workload.namespace"),
              "must be a lowercase DNS label (a-z, 0-9, '-')");
  }
  if (s.workload.address.empty()) {
    if (host.default_address) {
      s.workload.address = *host.default_address;
      s.workload.address_detected = true;
    } else {
      r.problem("workload.address", at("workload.address"),
                "no default route to detect the address from; set it");
    }
  } else if (!isIpAddress(s.workload.address)) {
    r.problem("workload.address", at("workload.address"),
              "must be an IPv4 or IPv6 address, not \"" + s.workload.address + "\"");
  }
  if (!isDnsName(s.trust_domain)) {
    r.problem("mesh.trust_domain", at("mesh.trust_domain"), "must be a DNS name");
  }
  auto absolute = [&](const std::string& key, const std::string& path) {
    if (path.empty() || path.front() != '/') {
      r.problem(key, at(key), "must be an absolute path, not \"" + path + "\"");
    }
  };
  if (s.config.type == "directory") {
    absolute("config.directory", s.config.directory);
  } else if (s.config.type == "kubernetes") {
    validateKubernetesSource(r, s);
  } else {
    r.problem("config.source", at("config.source"),
              "must be \"directory\" or \"kubernetes\", not \"" + s.config.type + "\"");
  }
  if (s.registry.type == RegistrySettings::Type::kFile) {
    absolute("registry.directory", s.registry.directory);
  } else {
    if (s.registry.api_server.rfind("https://", 0) != 0) {
      r.problem("registry.api_server", at("registry.api_server"),
                s.registry.api_server.empty()
                    ? "is required when registry.type is \"kubernetes\""
                    : "must be an https:// URL, not \"" + s.registry.api_server + "\"");
    }
    absolute("registry.token_file", s.registry.token_file);
    absolute("registry.ca_file", s.registry.ca_file);
  }
  if (!isIpAddress(s.dns.listen_address)) {
    r.problem("dns.listen_address", at("dns.listen_address"), "must be an IP address");
  }
  if (s.dns.upstreams.empty()) {
    s.dns.upstreams = parseResolvConf(host.resolv_conf).nameservers;
    // Our own listener in resolv.conf would loop queries back to us.
    std::erase_if(s.dns.upstreams, [&](const std::string& u) {
      return u == s.dns.listen_address && s.dns.listen_port == 53;
    });
    if (s.dns.enabled && s.dns.upstreams.empty()) {
      r.problem("dns.upstreams", at("dns.upstreams"),
                "/etc/resolv.conf names no nameserver; set dns.upstreams");
    }
  } else {
    for (size_t i = 0; i < s.dns.upstreams.size(); ++i) {
      if (!isResolverAddress(s.dns.upstreams[i])) {
        r.problem("dns.upstreams[" + std::to_string(i) + "]", at("dns.upstreams"),
                  "must be \"address\" or \"address:port\", not \"" + s.dns.upstreams[i] + "\"");
      }
    }
  }
  if (s.dns.search_domains.empty() && !s.workload.name_space.empty()) {
    s.dns.search_domains = {s.workload.name_space + ".svc.cluster.local", "svc.cluster.local",
                            "cluster.local"};
  }
  for (size_t i = 0; i < s.dns.search_domains.size(); ++i) {
    std::string& d = s.dns.search_domains[i];
    while (!d.empty() && d.back() == '.')
      d.pop_back();
    if (!isDnsName(d)) {
      r.problem("dns.search_domains[" + std::to_string(i) + "]", at("dns.search_domains"),
                "must be a lowercase DNS name, not \"" + d + "\"");
    }
  }
  if (s.dns.ttl_floor > s.dns.ttl_ceiling) {
    r.problem("dns.ttl_floor", at("dns.ttl_floor"),
              "must be at most dns.ttl_ceiling (" + std::to_string(s.dns.ttl_ceiling) + ")");
  }
  absolute("proxy.binary", s.proxy.binary);
  absolute("proxy.snapshot", s.proxy.snapshot);
  if (s.proxy.user.empty()) r.problem("proxy.user", at("proxy.user"), "must not be empty");
  if (s.proxy.user == "root") {
    r.problem("proxy.user", at("proxy.user"),
              "must not be root: capture exempts the proxy's traffic by its user");
  }
  absolute("paths.state_dir", s.paths.state_dir);
  absolute("paths.run_dir", s.paths.run_dir);
  absolute("paths.certs_dir", s.paths.certs_dir);
}

}  // namespace

std::string Problem::describe() const {
  std::string out = file;
  if (position.line > 0) {
    out += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
  }
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

SourcePosition AgentSettings::positionOf(const std::string& key) const {
  auto it = positions.find(key);
  return it == positions.end() ? SourcePosition{} : it->second;
}

HostFacts readHostFacts() {
  HostFacts facts;
  if (auto text = readFile("/etc/resolv.conf"); text.ok()) facts.resolv_conf = *text;
  facts.default_address = detectDefaultAddress();
  return facts;
}

SettingsLoad parseSettings(const std::string& text, const std::string& file,
                           const HostFacts& host) {
  SettingsLoad load;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    load.problems.push_back(
        Problem{file, positionOf(e.source()), "", "syntax: " + std::string(e.description())});
    return load;
  }
  AgentSettings settings;
  settings.file = file;
  Reader reader(file, settings, load.problems);
  readDocument(root, reader, settings);
  validate(reader, settings, host);
  std::stable_sort(
      load.problems.begin(), load.problems.end(),
      [](const Problem& a, const Problem& b) { return a.position.line < b.position.line; });
  if (load.problems.empty()) load.settings = std::move(settings);
  return load;
}

SettingsLoad loadSettings(const std::string& path, const HostFacts& host) {
  auto text = readFile(path);
  if (!text.ok()) {
    SettingsLoad load;
    load.problems.push_back(Problem{path, {}, "", text.error().detail});
    return load;
  }
  return parseSettings(*text, path, host);
}

}  // namespace meshnode::agent
