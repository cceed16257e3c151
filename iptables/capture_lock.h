#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::iptables {

// Serialises meshnode's rule changes on one host (the agent and an operator's command), so two
// save-compare-commit sequences never interleave. Held until destroyed.
class CaptureLock {
 public:
  // Waits for the lock file `lock` in `state_dir` (Capture::kDefaultStateDir unless the
  // caller keeps its state elsewhere), creating the directory when needed.
  static Result<CaptureLock> acquire(const std::string& state_dir);

 private:
  explicit CaptureLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace meshnode::iptables
