#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/health/probe.h"
#include "agent/istio/resource.h"
#include "common/result.h"

namespace meshnode::agent::daemon {

// The WorkloadGroup's spec.probe as the prober runs it.
Probe toProbe(const istio::WorkloadProbe& probe);

// The probe of group `name_space/group` among loaded resources: nullopt when the group has none
// or is absent; when the loader rejected the group (an invalid probe, say), its error, which
// names file, line and field.
Result<std::optional<Probe>> groupProbe(const istio::Resources& resources,
                                        const std::vector<std::string>& load_errors,
                                        const std::string& group, const std::string& name_space);

// groupProbe() over the manifests in `directory`, loaded (and validated) by the Istio loader.
Result<std::optional<Probe>> findGroupProbe(const std::string& directory, const std::string& group,
                                            const std::string& name_space);

}  // namespace meshnode::agent::daemon
