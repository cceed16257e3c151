#include "proxy/http/fault.h"

namespace meshnode::proxy {
namespace {

bool roll(double percent, std::mt19937& rng) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return std::uniform_real_distribution<double>(0, 100)(rng) < percent;
}

}  // namespace

FaultDecision decideFault(const FaultPolicy& policy, std::mt19937& rng) {
  FaultDecision d;
  if (policy.delay.count() > 0 && roll(policy.delay_percent, rng)) d.delay = policy.delay;
  if (policy.abort_status != 0 && roll(policy.abort_percent, rng))
    d.abort_status = policy.abort_status;
  return d;
}

}  // namespace meshnode::proxy
