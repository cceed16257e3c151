#pragma once

#include <string>
#include <vector>

// AuthorizationPolicy as plain data: what the YAML compiler and the snapshot JSON fill in and
// AuthzEngine::compile() validates. Field names follow security.istio.io/v1 in snake_case;
// docs/security.md maps each one. Lists are ORed, fields of one source/operation are ANDed,
// and the not_* forms exclude.
namespace meshnode::security {

enum class AuthzAction { kAllow, kDeny, kAudit, kCustom };

// rules[].from[].source
struct AuthzSource {
  std::vector<std::string> principals{}, not_principals{};
  std::vector<std::string> request_principals{}, not_request_principals{};
  std::vector<std::string> namespaces{}, not_namespaces{};
  std::vector<std::string> ip_blocks{}, not_ip_blocks{};
  std::vector<std::string> remote_ip_blocks{}, not_remote_ip_blocks{};
};

// rules[].to[].operation
struct AuthzOperation {
  std::vector<std::string> hosts{}, not_hosts{};
  std::vector<std::string> ports{}, not_ports{};
  std::vector<std::string> methods{}, not_methods{};
  std::vector<std::string> paths{}, not_paths{};
};

// The list fields of a source and of an operation, under Istio's name (YAML) and the
// snapshot's. The YAML decoder, the compiler and the proxy's snapshot reader walk these, so the
// three agree on every field.
template <typename T>
struct AuthzListField {
  const char* istio;
  const char* snapshot;
  std::vector<std::string> T::*member;
};

inline constexpr AuthzListField<AuthzSource> kAuthzSourceFields[] = {
    {"principals", "principals", &AuthzSource::principals},
    {"notPrincipals", "not_principals", &AuthzSource::not_principals},
    {"requestPrincipals", "request_principals", &AuthzSource::request_principals},
    {"notRequestPrincipals", "not_request_principals", &AuthzSource::not_request_principals},
    {"namespaces", "namespaces", &AuthzSource::namespaces},
    {"notNamespaces", "not_namespaces", &AuthzSource::not_namespaces},
    {"ipBlocks", "ip_blocks", &AuthzSource::ip_blocks},
    {"notIpBlocks", "not_ip_blocks", &AuthzSource::not_ip_blocks},
    {"remoteIpBlocks", "remote_ip_blocks", &AuthzSource::remote_ip_blocks},
    {"notRemoteIpBlocks", "not_remote_ip_blocks", &AuthzSource::not_remote_ip_blocks},
};

inline constexpr AuthzListField<AuthzOperation> kAuthzOperationFields[] = {
    {"hosts", "hosts", &AuthzOperation::hosts},
    {"notHosts", "not_hosts", &AuthzOperation::not_hosts},
    {"ports", "ports", &AuthzOperation::ports},
    {"notPorts", "not_ports", &AuthzOperation::not_ports},
    {"methods", "methods", &AuthzOperation::methods},
    {"notMethods", "not_methods", &AuthzOperation::not_methods},
    {"paths", "paths", &AuthzOperation::paths},
    {"notPaths", "not_paths", &AuthzOperation::not_paths},
};

// rules[].when[]
struct AuthzCondition {
  std::string key{};  // e.g. "request.headers[x-token]", "request.auth.claims[groups]"
  std::vector<std::string> values{}, not_values{};
};

struct AuthzRule {
  std::vector<AuthzSource> from{};
  std::vector<AuthzOperation> to{};
  std::vector<AuthzCondition> when{};
};

struct AuthzPolicy {
  std::string ns;
  std::string name;
  // Where the resource came from ("bookinfo.yaml:12"), quoted in errors; may be empty.
  std::string origin;
  AuthzAction action = AuthzAction::kAllow;
  // Empty: the policy matches nothing (an ALLOW policy then denies everything it selects);
  // one empty rule {} matches everything.
  std::vector<AuthzRule> rules;
};

}  // namespace meshnode::security
