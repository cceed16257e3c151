#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshnode::agent {

// Where a key was written, so every complaint can point at it.
struct SourcePosition {
  uint32_t line = 0;
  uint32_t column = 0;
};

// One thing wrong with agent.toml: "agent.toml:12:1: dns.ttl_floor: must be at most ...".
struct Problem {
  std::string file;
  SourcePosition position;
  std::string key;
  std::string message;

  std::string describe() const;
};

struct WorkloadSettings {
  std::string group;
  std::string name_space;
  // Empty until detected or set; the address the entry and the capture rules use.
  std::string address;
  bool address_detected = false;
  std::string network;
  std::string service_account;
};

struct ConfigSourceSettings {
  // "directory" (Istio manifests in config.directory) or "kubernetes" (list and watch the API).
  std::string type = "directory";
  std::string directory = "/etc/meshnode/mesh";
  // The Kubernetes source's API server and credentials. Each one left unset takes the
  // [registry] key of the same name, so one cluster is written down once.
  std::string api_server;
  std::string token_file;
  std::string ca_file;
  // Services become "<name>.<namespace>.svc.<domain_suffix>".
  std::string domain_suffix = "cluster.local";

  bool kubernetes() const { return type == "kubernetes"; }
};

struct RegistrySettings {
  enum class Type { kFile, kKubernetes };
  Type type = Type::kFile;
  std::string directory = "/var/lib/meshnode/registry";
  std::string api_server;
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
};

struct DnsSettings {
  bool enabled = true;
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 15053;
  // "address" or "address:port" ("[v6]:port"); defaults to the nameservers of /etc/resolv.conf.
  std::vector<std::string> upstreams;
  std::vector<std::string> search_domains;
  uint32_t ttl_floor = 5;
  uint32_t ttl_ceiling = 300;
  uint32_t mesh_ttl = 30;
};

struct ProxySettings {
  std::string binary = "/usr/bin/meshnode-proxy";
  std::string snapshot = "/var/lib/meshnode/snapshot.json";
  std::string user = "meshnode";
  uint32_t concurrency = 2;
  uint16_t admin_port = 15000;
};

struct PathSettings {
  std::string state_dir = "/var/lib/meshnode";
  std::string run_dir = "/run/meshnode";
  std::string certs_dir = "/var/lib/meshnode/certs";
};

struct AgentSettings {
  std::string file;
  WorkloadSettings workload;
  std::string trust_domain = "cluster.local";
  ConfigSourceSettings config;
  RegistrySettings registry;
  // Handed to the capture library unchanged; its flag names are the keys.
  std::map<std::string, std::string> capture;
  DnsSettings dns;
  ProxySettings proxy;
  PathSettings paths;
  // "dns.ttl_floor" -> where it was written; keys left at their defaults are absent.
  std::map<std::string, SourcePosition> positions;

  SourcePosition positionOf(const std::string& key) const;
};

// The result of reading agent.toml: settings when there were no problems, and every problem.
struct SettingsLoad {
  std::optional<AgentSettings> settings;
  std::vector<Problem> problems;
};

// Where the host's defaults come from; tests replace them.
struct HostFacts {
  // Content of /etc/resolv.conf.
  std::string resolv_conf;
  // The address of the interface carrying the default route, if one was found.
  std::optional<std::string> default_address;
};

HostFacts readHostFacts();

// Parses and validates; `file` names the source in problems.
SettingsLoad parseSettings(const std::string& text, const std::string& file, const HostFacts& host);
SettingsLoad loadSettings(const std::string& path, const HostFacts& host);

inline constexpr const char* kDefaultSettingsPath = "/etc/meshnode/agent.toml";

}  // namespace meshnode::agent
