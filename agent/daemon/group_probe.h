#pragma once

#include <optional>
#include <string>

#include "agent/health/probe.h"
#include "common/result.h"

namespace meshnode::agent::daemon {

// The WorkloadGroup's spec.probe, read from the manifests in `directory`: the Istio loader
// keeps what the compiler needs and drops the probe, so the agent reads it itself. nullopt when
// the group has no probe (or is not found); an invalid probe is an error naming file, line and
// field.
Result<std::optional<Probe>> findGroupProbe(const std::string& directory, const std::string& group,
                                            const std::string& name_space);

}  // namespace meshnode::agent::daemon
