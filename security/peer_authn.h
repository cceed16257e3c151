#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

// PeerAuthentication: which mTLS mode an inbound port of this workload runs in.
namespace meshnode::security {

enum class MtlsMode { kUnset, kDisable, kPermissive, kStrict };

// "UNSET", "DISABLE", "PERMISSIVE", "STRICT".
Result<MtlsMode> parseMtlsMode(std::string_view name);
const char* toString(MtlsMode mode);

// One PeerAuthentication resource as plain data (security.istio.io/v1).
struct PeerAuthnPolicy {
  std::string ns;
  std::string name;
  std::string origin;                           // "file.yaml:4", quoted in errors
  std::map<std::string, std::string> selector;  // selector.matchLabels; empty: namespace-wide
  MtlsMode mode = MtlsMode::kUnset;             // mtls.mode
  std::map<uint16_t, MtlsMode> port_modes;      // portLevelMtls (workload ports)
};

// Refuses what Istio refuses: portLevelMtls without a selector, port 0.
Status validatePeerAuthn(const PeerAuthnPolicy& policy);

struct WorkloadRef {
  std::string ns;
  std::map<std::string, std::string> labels;
};

// The mode in force on `port` of `workload`. Precedence: a policy whose selector matches the
// workload (its port-level entry first) over the workload namespace's policy without selector
// over the root namespace's policy without selector. UNSET inherits from the next level; with
// nothing set the mode is PERMISSIVE. When two policies share a level, the first in `policies`
// wins: pass them oldest first, as Istio picks the oldest.
MtlsMode effectiveMtlsMode(const std::vector<PeerAuthnPolicy>& policies, std::string_view root_ns,
                           const WorkloadRef& workload, uint16_t port);

}  // namespace meshnode::security
