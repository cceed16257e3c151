#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/ip/address.hpp>

#include "security/authz_engine.h"
#include "security/path_normalization.h"
#include "security/peer_authn.h"
#include "security/request_authn.h"

namespace re2 {
class RE2;
}  // namespace re2

// The compiled configuration the proxy serves. docs/snapshot.md documents its JSON form; the
// types below are what snapshot_json.cc builds from it. A Snapshot is immutable once
// published and shared between workers as std::shared_ptr<const Snapshot>.
namespace meshnode::proxy {

using Millis = std::chrono::milliseconds;

enum class Direction { kOutbound, kInbound };

struct Cidr {
  bool v6 = false;
  uint8_t bytes[16] = {};
  int prefix = 0;
};

struct Endpoint {
  std::string address;   // numeric IPv4 or IPv6
  asio::ip::address ip;  // `address`, parsed once when the snapshot is read
  uint16_t port = 0;
  uint32_t weight = 1;
  std::map<std::string, std::string> labels;
  std::string locality;  // "region/zone/subzone"; empty: unknown
  std::string network;
};

// Additions past the first cut of schema 1; each defaults to "off" so older documents read the
// same. docs/snapshot.md says which of them the proxy honours.
struct ConsistentHash {
  std::string header;  // hash this request header
  std::string cookie;  // hash this cookie (generated when absent and cookie_ttl > 0)
  std::string cookie_path;
  Millis cookie_ttl{0};
  bool source_ip = false;       // hash the downstream address
  std::string query_parameter;  // hash this query parameter
  uint64_t minimum_ring_size = 1024;
};

struct OutlierDetection {
  uint32_t consecutive_5xx = 0;             // 0: not counted
  uint32_t consecutive_gateway_errors = 0;  // 502, 503, 504; 0: not counted
  Millis interval{10000};
  Millis base_ejection_time{30000};
  uint32_t max_ejection_percent = 10;
  uint32_t min_health_percent = 0;
};

enum class TlsMode { kDisable, kSimple, kMutual, kIstioMutual };

struct UpstreamTls {
  TlsMode mode = TlsMode::kDisable;
  std::string sni;
  std::vector<std::string> subject_alt_names;
  std::string ca_certificates, client_certificate, private_key;  // file paths
  bool insecure_skip_verify = false;
  // False when the cluster has no `tls` object: auto mTLS then decides per endpoint.
  bool configured = false;
};

enum class UpstreamProtocol { kHttp1, kHttp2, kDownstream };
enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom };

struct Cluster {
  std::string name;
  // original_dst clusters forward to the connection's original destination (passthrough).
  bool original_dst = false;
  UpstreamProtocol protocol = UpstreamProtocol::kDownstream;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  Millis connect_timeout{5000};
  Millis idle_timeout{60000};
  uint32_t max_connections = 1024;
  uint32_t max_requests_per_connection = 0;  // 0: unlimited
  uint32_t max_concurrent_streams = 100;     // per upstream HTTP/2 connection
  std::vector<Endpoint> endpoints;
  uint32_t max_pending_requests = 0;  // 0: unlimited; overflow is answered 503
  uint32_t max_requests = 0;          // concurrent requests over all connections; 0: unlimited
  uint32_t max_retries = 0;           // concurrent retries; 0: unlimited
  std::optional<ConsistentHash> consistent_hash;  // when set, replaces lb_policy
  std::optional<OutlierDetection> outlier_detection;
  UpstreamTls tls;
};

enum class StringMatchKind { kExact, kPrefix, kRegex, kPresent, kAbsent };

struct StringMatch {
  StringMatchKind kind = StringMatchKind::kPresent;
  std::string value;
  bool ignore_case = false;
  std::shared_ptr<const re2::RE2> regex;  // compiled once, for kRegex; matched whole
};

struct HeaderMatch {
  std::string name;  // lower case; ":method", ":authority", ":scheme" allowed
  StringMatch match;
  bool invert = false;
};

struct RouteMatch {
  std::optional<StringMatch> path;  // matched against the path without the query
  std::vector<HeaderMatch> headers;
  std::vector<std::pair<std::string, StringMatch>> query_params;
};

struct WeightedCluster {
  std::string cluster;
  uint32_t weight = 1;
};

struct HeaderOps {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

struct Redirect {
  std::string scheme;     // empty: keep
  std::string authority;  // empty: keep
  std::string path;       // empty: keep
  uint16_t status = 301;
};

struct DirectResponse {
  uint16_t status = 200;
  std::string body;
};

struct RetryPolicy {
  uint32_t attempts = 0;  // retries after the first try
  Millis per_try_timeout{0};
  std::vector<std::string> retry_on;  // Envoy's names: "5xx", "gateway-error", "reset", ...
  std::vector<uint16_t> retriable_status_codes;
};

struct FaultPolicy {
  Millis delay{0};
  double delay_percent = 0;   // 0..100
  uint16_t abort_status = 0;  // 0: no abort
  double abort_percent = 0;
};

struct MirrorPolicy {
  std::string cluster;
  double percent = 100;
};

struct CorsPolicy {
  std::vector<StringMatch> allow_origins;
  std::vector<std::string> allow_methods, allow_headers, expose_headers;
  Millis max_age{0};
  std::optional<bool> allow_credentials;
};

struct Route {
  std::string name;
  RouteMatch match;
  std::vector<WeightedCluster> clusters;
  std::optional<Redirect> redirect;
  std::optional<DirectResponse> direct_response;
  std::string prefix_rewrite;  // replaces the matched path prefix when set
  std::string host_rewrite;
  Millis timeout{0};  // 0: none
  HeaderOps request_headers;
  HeaderOps response_headers;
  std::optional<RetryPolicy> retries;  // none: not retried
  std::optional<FaultPolicy> fault;
  std::vector<MirrorPolicy> mirrors;
  std::optional<CorsPolicy> cors;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // "*", "*.suffix", "prefix.*", "host", "host:port"
  std::vector<Route> routes;
};

struct HttpRouteTable {
  Direction direction = Direction::kOutbound;
  uint16_t port = 0;  // original destination port; 0 matches any port
  std::vector<VirtualHost> virtual_hosts;
};

struct TcpRoute {
  Direction direction = Direction::kOutbound;
  uint16_t port = 0;               // 0: any port
  std::vector<Cidr> destinations;  // empty: any address
  std::vector<std::string> sni;    // non-empty: TLS route by server name
  std::string cluster;
  // A weighted split; when set, `cluster` names the heaviest entry.
  std::vector<WeightedCluster> weighted_clusters;
};

enum class Unmatched { kPassthrough, kRefuse };

struct Listener {
  std::string name;
  Direction direction = Direction::kOutbound;
  std::string address;
  uint16_t port = 0;
  bool use_original_dst = true;
  Unmatched unmatched = Unmatched::kPassthrough;
  Millis detection_timeout{1000};
};

struct Limits {
  uint32_t max_header_bytes = 60 * 1024;
  uint32_t max_headers = 100;
  uint32_t max_concurrent_streams = 100;  // per downstream HTTP/2 connection
  uint32_t max_connections = 10000;       // per worker
  uint32_t buffer_high_watermark = 1024 * 1024;
  Millis stream_idle_timeout{300000};
  Millis downstream_idle_timeout{3600000};
};

// Mesh security: this workload's identity, PeerAuthentication of its inbound ports,
// RequestAuthentication and AuthorizationPolicy of its inbound requests. Read from the
// snapshot's `security` object (docs/snapshot.md); all of it defaults to "off".
struct SecurityConfig {
  // Paths of cert-chain.pem, key.pem and root-cert.pem; empty: no mesh identity (no mTLS).
  std::string cert_chain, key, root_cert;
  bool hasIdentity() const { return !cert_chain.empty(); }
  bool auto_mtls = true;
  security::MtlsMode mtls_mode = security::MtlsMode::kPermissive;
  std::map<uint16_t, security::MtlsMode> port_mtls;  // by inbound (original destination) port
  security::PathNormalization path_normalization = security::PathNormalization::kBase;
  std::shared_ptr<const security::AuthzEngine> authz;  // null: no policy, everything allowed
  std::vector<security::JwtRule> jwt_rules;

  security::MtlsMode modeFor(uint16_t port) const {
    auto it = port_mtls.find(port);
    return it != port_mtls.end() ? it->second : mtls_mode;
  }
};

struct Snapshot {
  std::string version;
  std::vector<Listener> listeners;
  std::vector<HttpRouteTable> http_routes;
  std::vector<TcpRoute> tcp_routes;
  std::vector<Cluster> clusters;
  Limits limits;
  SecurityConfig security;
  std::string source_json;  // the document as loaded, for /config_dump

  // By name; through the index built at load time when there is one (parseSnapshot builds it),
  // so a request never scans every cluster of a large mesh.
  const Cluster* findCluster(const std::string& name) const;
  void indexClusters();
  std::unordered_map<std::string, size_t> cluster_index;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace meshnode::proxy
