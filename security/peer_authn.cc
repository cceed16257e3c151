#include "security/peer_authn.h"

namespace meshnode::security {

Result<MtlsMode> parseMtlsMode(std::string_view name) {
  if (name == "UNSET") return MtlsMode::kUnset;
  if (name == "DISABLE") return MtlsMode::kDisable;
  if (name == "PERMISSIVE") return MtlsMode::kPermissive;
  if (name == "STRICT") return MtlsMode::kStrict;
  return makeError(
      ErrorCode::kInvalidArgument, Side::kConfig,
      "mtls.mode '" + std::string(name) + "': expected UNSET, DISABLE, PERMISSIVE or STRICT");
}

const char* toString(MtlsMode mode) {
  switch (mode) {
    case MtlsMode::kUnset:
      return "UNSET";
    case MtlsMode::kDisable:
      return "DISABLE";
    case MtlsMode::kPermissive:
      return "PERMISSIVE";
    case MtlsMode::kStrict:
      return "STRICT";
  }
  return "?";
}

Status validatePeerAuthn(const PeerAuthnPolicy& p) {
  std::string where =
      "PeerAuthentication " + p.ns + "/" + p.name + (p.origin.empty() ? "" : " (" + p.origin + ")");
  if (!p.port_modes.empty() && p.selector.empty()) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     where + ": portLevelMtls requires a workload selector");
  }
  if (p.port_modes.count(0) != 0) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     where + ": portLevelMtls: port 0 is not a port");
  }
  return {};
}

namespace {

bool selects(const PeerAuthnPolicy& p, const WorkloadRef& w) {
  for (const auto& [key, value] : p.selector) {
    auto it = w.labels.find(key);
    if (it == w.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

MtlsMode effectiveMtlsMode(const std::vector<PeerAuthnPolicy>& policies, std::string_view root_ns,
                           const WorkloadRef& workload, uint16_t port) {
  const PeerAuthnPolicy* mesh = nullptr;
  const PeerAuthnPolicy* ns_wide = nullptr;
  const PeerAuthnPolicy* selected = nullptr;
  for (const PeerAuthnPolicy& p : policies) {
    if (p.selector.empty()) {
      if (p.ns == workload.ns && ns_wide == nullptr) ns_wide = &p;
      if (p.ns == root_ns && mesh == nullptr) mesh = &p;
    } else if (p.ns == workload.ns && selected == nullptr && selects(p, workload)) {
      selected = &p;
    }
  }
  // A namespace-wide policy in the root namespace is both; for a workload of another
  // namespace it is only the mesh-wide one.
  if (ns_wide == mesh && workload.ns != root_ns) ns_wide = nullptr;

  std::vector<MtlsMode> chain;
  if (selected != nullptr) {
    if (auto it = selected->port_modes.find(port); it != selected->port_modes.end()) {
      chain.push_back(it->second);
    }
    chain.push_back(selected->mode);
  }
  if (ns_wide != nullptr) chain.push_back(ns_wide->mode);
  if (mesh != nullptr) chain.push_back(mesh->mode);
  for (MtlsMode m : chain) {
    if (m != MtlsMode::kUnset) return m;
  }
  return MtlsMode::kPermissive;
}

}  // namespace meshnode::security
