#pragma once

#include <random>
#include <string>

namespace meshnode::proxy {

// A random version 4 UUID for x-request-id, which the proxy adds to every request without one,
// as Envoy does.
std::string requestId(std::mt19937& rng);

}  // namespace meshnode::proxy
