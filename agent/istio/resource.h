#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "security/authz_policy.h"
#include "security/peer_authn.h"

// Istio's resources as the compiler reads them, after validation. Field names follow
// the Istio reference (istio.io/latest/docs/reference/config/networking/); durations are in
// milliseconds and percentages from 0 to 100.
namespace meshnode::istio {

using Labels = std::map<std::string, std::string>;

struct Meta {
  std::string kind;
  std::string name;
  std::string ns;  // "default" when the manifest names none
  Labels labels;
  std::string file;  // where the resource was read, for diagnostics
  int line = 0;

  std::string id() const { return ns + "/" + name; }
};

// StringMatch of HTTPMatchRequest; an empty one ({}) asks only that the value be present.
struct StringMatch {
  enum class Kind { kExact, kPrefix, kRegex, kPresent };
  Kind kind = Kind::kPresent;
  std::string value;
};

struct Destination {
  std::string host;  // as written; the compiler qualifies short names
  std::string subset;
  uint32_t port = 0;  // 0: not given
};

struct HeaderOperations {
  std::vector<std::pair<std::string, std::string>> set, add;
  std::vector<std::string> remove;
};

struct Headers {
  HeaderOperations request, response;
};

struct RouteDestination {
  Destination destination;
  std::optional<uint32_t> weight;
  Headers headers;
};

struct HttpMatch {
  std::optional<StringMatch> uri, scheme, method, authority;
  std::vector<std::pair<std::string, StringMatch>> headers, without_headers, query_params;
  uint32_t port = 0;
  Labels source_labels;
  std::vector<std::string> gateways;
  std::string source_namespace;
  bool ignore_uri_case = false;
};

struct HttpRedirect {
  std::string uri, authority, scheme;
  uint32_t port = 0;
  uint16_t code = 301;
};

struct HttpRewrite {
  std::string uri, authority;
};

struct HttpDirectResponse {
  uint16_t status = 200;
  std::string body;
};

struct HttpRetry {
  uint32_t attempts = 0;
  int64_t per_try_timeout_ms = 0;
  std::string retry_on;  // comma-separated, as written
};

struct HttpFault {
  std::optional<int64_t> delay_ms;
  double delay_percent = 100;
  std::optional<uint16_t> abort_status;
  double abort_percent = 100;
};

struct Mirror {
  Destination destination;
  double percent = 100;
};

struct CorsPolicy {
  std::vector<StringMatch> allow_origins;
  std::vector<std::string> allow_methods, allow_headers, expose_headers;
  int64_t max_age_ms = 0;
  std::optional<bool> allow_credentials;
};

struct HttpRoute {
  std::string name;
  std::vector<HttpMatch> match;
  std::vector<RouteDestination> route;
  std::optional<HttpRedirect> redirect;
  std::optional<HttpDirectResponse> direct_response;
  std::optional<HttpRewrite> rewrite;
  std::optional<int64_t> timeout_ms;
  std::optional<HttpRetry> retries;
  std::optional<HttpFault> fault;
  std::vector<Mirror> mirrors;  // `mirror` + `mirrorPercentage`, or `mirrors`
  std::optional<CorsPolicy> cors;
  Headers headers;
};

// L4MatchAttributes and TLSMatchAttributes share one shape; sni_hosts is TLS-only.
struct L4Match {
  std::vector<std::string> destination_subnets;
  uint32_t port = 0;
  Labels source_labels;
  std::vector<std::string> gateways;
  std::string source_namespace;
  std::vector<std::string> sni_hosts;
};

struct L4Route {
  std::vector<L4Match> match;
  std::vector<RouteDestination> route;
};

struct VirtualService {
  Meta meta;
  std::vector<std::string> hosts, gateways, export_to;
  std::vector<HttpRoute> http;
  std::vector<L4Route> tls, tcp;
};

struct LoadBalancer {
  enum class Simple { kUnset, kRoundRobin, kLeastRequest, kRandom, kPassthrough };
  Simple simple = Simple::kUnset;
  // Consistent hash; exactly one key is set when `hashed`.
  bool hashed = false;
  std::string http_header_name, http_query_parameter_name, cookie_name, cookie_path;
  int64_t cookie_ttl_ms = 0;
  bool use_source_ip = false;
  uint64_t minimum_ring_size = 0;
};

struct ConnectionPool {
  std::optional<uint32_t> max_connections, http1_max_pending_requests, http2_max_requests,
      max_requests_per_connection, max_retries, max_concurrent_streams;
  std::optional<int64_t> connect_timeout_ms, idle_timeout_ms;
};

struct OutlierDetection {
  std::optional<uint32_t> consecutive_5xx_errors, consecutive_gateway_errors;
  std::optional<int64_t> interval_ms, base_ejection_time_ms;
  std::optional<uint32_t> max_ejection_percent, min_health_percent;
};

struct ClientTls {
  enum class Mode { kDisable, kSimple, kMutual, kIstioMutual };
  Mode mode = Mode::kDisable;
  std::string client_certificate, private_key, ca_certificates, sni;
  std::vector<std::string> subject_alt_names;
  bool insecure_skip_verify = false;
};

// One level of TrafficPolicy; each part may be absent so levels can be merged as Istio does.
struct PolicyParts {
  std::optional<LoadBalancer> load_balancer;
  std::optional<ConnectionPool> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<ClientTls> tls;
};

struct TrafficPolicy : PolicyParts {
  std::vector<std::pair<uint32_t, PolicyParts>> port_level;
};

struct Subset {
  std::string name;
  Labels labels;
  std::optional<TrafficPolicy> traffic_policy;
};

struct DestinationRule {
  Meta meta;
  std::string host;
  std::optional<TrafficPolicy> traffic_policy;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
  std::optional<Labels> workload_selector;
};

struct ServicePort {
  uint32_t number = 0;
  std::string protocol;  // upper case: HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO, ...
  std::string name;
  uint32_t target_port = 0;
};

// The spec of a WorkloadEntry, also inlined as ServiceEntry endpoints and WorkloadGroup template.
struct WorkloadSpec {
  std::string address;
  std::map<std::string, uint32_t> ports;  // port name -> number
  Labels labels;
  std::string network, locality, service_account;
  uint32_t weight = 0;  // 0: not given
};

struct ServiceEntry {
  enum class Location { kMeshExternal, kMeshInternal };
  enum class Resolution { kNone, kStatic, kDns, kDnsRoundRobin };
  Meta meta;
  std::vector<std::string> hosts, addresses, export_to, subject_alt_names;
  std::vector<ServicePort> ports;
  Location location = Location::kMeshExternal;
  Resolution resolution = Resolution::kNone;
  std::vector<WorkloadSpec> endpoints;
  std::optional<Labels> workload_selector;
};

struct WorkloadEntry {
  Meta meta;
  WorkloadSpec spec;
  bool healthy = true;  // false when status.conditions has Healthy=False
};

// WorkloadGroup spec.probe (Istio's ReadinessProbe): exactly one action; absent counts keep
// Kubernetes' defaults.
struct WorkloadProbe {
  enum class Action { kHttpGet, kTcpSocket, kExec };
  Action action = Action::kHttpGet;
  std::string host;                                               // httpGet, tcpSocket
  uint32_t port = 0;                                              // httpGet, tcpSocket
  std::string path = "/", scheme = "HTTP";                        // httpGet
  std::vector<std::pair<std::string, std::string>> http_headers;  // httpGet
  std::vector<std::string> command;                               // exec
  uint32_t initial_delay_seconds = 0, period_seconds = 10, timeout_seconds = 1,
           success_threshold = 1, failure_threshold = 3;
};

struct WorkloadGroup {
  Meta meta;
  Labels labels;  // spec.metadata.labels
  WorkloadSpec template_;
  std::optional<WorkloadProbe> probe;
};

struct SidecarPort {
  uint32_t number = 0;
  std::string protocol, name;
};

struct SidecarIngress {
  SidecarPort port;
  std::string bind, default_endpoint;
};

struct SidecarEgress {
  std::optional<SidecarPort> port;
  std::string bind;
  std::vector<std::string> hosts;  // "namespace/dnsName"
};

struct Sidecar {
  Meta meta;
  std::optional<Labels> workload_selector;
  std::vector<SidecarIngress> ingress;
  std::vector<SidecarEgress> egress;
  std::optional<bool> registry_only;  // outboundTrafficPolicy.mode; absent: mesh default
};

// security.istio.io (https://istio.io/latest/docs/reference/config/security/).

using MtlsMode = security::MtlsMode;  // UNSET, DISABLE, PERMISSIVE, STRICT

struct PeerAuthentication {
  Meta meta;
  std::optional<Labels> selector;    // selector.matchLabels; absent or empty: the whole namespace
  MtlsMode mode = MtlsMode::kUnset;  // mtls.mode; UNSET inherits from the parent level
  std::map<uint32_t, MtlsMode> port_level;  // portLevelMtls
};

struct AuthorizationPolicy {
  Meta meta;
  std::optional<Labels> selector;
  // targetRef/targetRefs name gateways and waypoints; such a policy never applies to a host.
  bool has_target_refs = false;
  security::AuthzAction action = security::AuthzAction::kAllow;
  std::vector<security::AuthzRule> rules;  // Istio's camelCase fields, in the engine's shape
};

struct JwtHeader {
  std::string name, prefix;
};

struct JwtRule {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_uri, jwks;
  std::vector<JwtHeader> from_headers;
  std::vector<std::string> from_params, from_cookies;
  std::string output_payload_to_header;
  bool forward_original_token = false;
  std::vector<std::pair<std::string, std::string>> output_claim_to_headers;  // header, claim
  std::optional<int64_t> timeout_ms;                                         // for fetching jwksUri
};

struct RequestAuthentication {
  Meta meta;
  std::optional<Labels> selector;
  bool has_target_refs = false;
  std::vector<JwtRule> jwt_rules;
};

// Every valid resource read from a config source, in the order it was read.
struct Resources {
  std::vector<ServiceEntry> service_entries;
  std::vector<WorkloadEntry> workload_entries;
  std::vector<WorkloadGroup> workload_groups;
  std::vector<VirtualService> virtual_services;
  std::vector<DestinationRule> destination_rules;
  std::vector<Sidecar> sidecars;
  std::vector<PeerAuthentication> peer_authentications;
  std::vector<AuthorizationPolicy> authorization_policies;
  std::vector<RequestAuthentication> request_authentications;

  size_t count() const {
    return service_entries.size() + workload_entries.size() + workload_groups.size() +
           virtual_services.size() + destination_rules.size() + sidecars.size() +
           peer_authentications.size() + authorization_policies.size() +
           request_authentications.size();
  }
};

}  // namespace meshnode::istio
