#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::iptables {

// Serialises meshnode's rule changes on one host (the agent and an operator's command), so two
// save-compare-commit sequences never interleave. Held until destroyed.
class CaptureLock {
 public:
  static constexpr const char* kDefaultPath = "/run/meshnode-iptables.lock";

  // Waits for the lock; an error when the lock file cannot be opened.
  static Result<CaptureLock> acquire(const std::string& path = kDefaultPath);

 private:
  explicit CaptureLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace meshnode::iptables
