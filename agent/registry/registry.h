#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/registry/workload_entry.h"
#include "common/result.h"

namespace meshnode::agent {

struct RegistryEvent {
  enum class Kind { kAdded, kUpdated, kRemoved };
  Kind kind;
  WorkloadEntry entry;
};

// Calls `callback` for each entry added, changed or removed between two listings keyed alike.
void announceChanges(const std::map<std::string, WorkloadEntry>& before,
                     const std::map<std::string, WorkloadEntry>& after,
                     const std::function<void(const RegistryEvent&)>& callback);

// Stops its callbacks when destroyed.
class RegistryWatch {
 public:
  virtual ~RegistryWatch() = default;
};

// Where WorkloadEntries live: a shared directory today, the Kubernetes API behind the same
// seam. Errors that a later attempt may fix are marked retryable.
class Registry {
 public:
  using WatchCallback = std::function<void(const RegistryEvent&)>;

  virtual ~Registry() = default;

  // Creates or replaces this host's entry; connects it (no istio.io/disconnectedAt).
  virtual Status registerEntry(const WorkloadEntry& entry) = 0;
  // Sets the Healthy condition of an entry this registry registered.
  virtual Status updateHealth(const std::string& name_space, const std::string& name,
                              const HealthCondition& health) = 0;
  // Marks the entry disconnected (istio.io/disconnectedAt) on a clean stop.
  virtual Status disconnect(const std::string& name_space, const std::string& name,
                            std::chrono::system_clock::time_point now) = 0;
  virtual Result<std::vector<WorkloadEntry>> list() = 0;
  // Reports every entry present as kAdded, then changes as they happen, on a thread of the
  // registry's own.
  virtual Result<std::unique_ptr<RegistryWatch>> watch(WatchCallback callback) = 0;
};

}  // namespace meshnode::agent
