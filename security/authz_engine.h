#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "security/authz_policy.h"
#include "security/authz_request.h"

namespace meshnode::security {

struct AuthzDecision {
  bool allowed = true;
  // "ns/name" of the policy that decided; empty when allowed because no ALLOW policy applies.
  std::string policy;
  // Set when an AUDIT policy matched (the decision itself is unchanged).
  bool audit = false;
  std::string audit_policy;

  // "denied by foo/deny-get", "allowed by foo/allow-get", "denied: no ALLOW policy matched",
  // for access logs and the 403 body.
  std::string describe() const;
};

// The AuthorizationPolicies that apply to one workload, compiled once per snapshot and then
// evaluated read-only by every worker.
//
// Order (Istio's): any matching DENY policy denies; otherwise, if there are ALLOW policies,
// one of them must match or the request is denied; with no ALLOW policy the request is
// allowed. AUDIT policies only mark the decision. CUSTOM is refused at compile time.
//
// For TCP (AuthzRequest::is_http false), HTTP-only fields (hosts, methods, paths,
// requestPrincipals, request.headers and request.auth.* conditions) cannot be evaluated: an
// ALLOW rule that uses one never matches, and in DENY and AUDIT rules such fields are ignored,
// so the rule matches more, never less.
class AuthzEngine {
 public:
  // Every error names the policy (ns/name, origin) and the field path, e.g.
  // "policy foo/bar (bar.yaml:3): rules[0].from[1].source.ipBlocks[0]: invalid CIDR '10.0.0/8'".
  static Result<AuthzEngine> compile(const std::vector<AuthzPolicy>& policies);

  AuthzDecision evaluate(const AuthzRequest& request) const;

  struct Compiled;

 private:
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace meshnode::security
