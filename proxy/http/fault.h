#pragma once

#include <random>

#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// What the fault policy does to one request: Envoy's fault filter delays first, then aborts.
struct FaultDecision {
  Millis delay{0};       // 0: not delayed
  int abort_status = 0;  // 0: not aborted
};

// Rolls the policy's percentages (fractional, 0..100) for one request.
FaultDecision decideFault(const FaultPolicy& policy, std::mt19937& rng);

// The body of an injected abort, as Envoy words it.
inline constexpr const char* kFaultAbortBody = "fault filter abort";

}  // namespace meshnode::proxy
