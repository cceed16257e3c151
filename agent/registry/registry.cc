#include "agent/registry/registry.h"

namespace meshnode::agent {

void announceChanges(const std::map<std::string, WorkloadEntry>& before,
                     const std::map<std::string, WorkloadEntry>& after,
                     const std::function<void(const RegistryEvent&)>& callback) {
  for (const auto& [key, entry] : before)
    if (!after.count(key)) callback(RegistryEvent{RegistryEvent::Kind::kRemoved, entry});
  for (const auto& [key, entry] : after) {
    auto it = before.find(key);
    if (it == before.end())
      callback(RegistryEvent{RegistryEvent::Kind::kAdded, entry});
    else if (!(it->second == entry))
      callback(RegistryEvent{RegistryEvent::Kind::kUpdated, entry});
  }
}

}  // namespace meshnode::agent
