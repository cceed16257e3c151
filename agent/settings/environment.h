#pragma once

#include <vector>

#include "agent/settings/settings.h"

namespace meshnode::agent {

// What valid settings point at on this host: the config directory, the registry, the proxy
// binary and user. Each problem names the key that points there.
std::vector<Problem> checkEnvironment(const AgentSettings& settings);

}  // namespace meshnode::agent
