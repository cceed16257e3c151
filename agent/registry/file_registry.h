#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "agent/registry/registry.h"

namespace meshnode::agent {

struct FileRegistryOptions {
  std::string directory;
  // How long a disconnected entry stays before any agent watching the directory removes it,
  // as Istio's controller does for auto-registered entries.
  std::chrono::milliseconds cleanup_grace{std::chrono::seconds(10)};
};

// WorkloadEntries as one JSON file each ("<namespace>.<name>.json") in a directory shared by
// the agents of a single-host mesh. Each file is replaced atomically, so readers never see a
// torn entry. Methods may be called from any thread.
class FileRegistry : public Registry {
 public:
  explicit FileRegistry(FileRegistryOptions options) : options_(std::move(options)) {}

  Status registerEntry(const WorkloadEntry& entry) override;
  Status updateHealth(const std::string& name_space, const std::string& name,
                      const HealthCondition& health) override;
  Status disconnect(const std::string& name_space, const std::string& name,
                    std::chrono::system_clock::time_point now) override;
  Result<std::vector<WorkloadEntry>> list() override;
  Result<std::unique_ptr<RegistryWatch>> watch(WatchCallback callback) override;

 private:
  std::string pathOf(const std::string& name_space, const std::string& name) const;
  Status write(const WorkloadEntry& entry);

  FileRegistryOptions options_;
  std::mutex mutex_;
  // The entries this agent registered, so an update never depends on reading the directory.
  std::map<std::string, WorkloadEntry> own_;
};

// Every parseable entry in `directory`; unreadable or malformed files are logged and skipped,
// so one bad file cannot hide the others. Disconnected entries older than `cleanup_grace` are
// removed.
Result<std::map<std::string, WorkloadEntry>> scanRegistryDirectory(
    const std::string& directory, std::chrono::milliseconds cleanup_grace);

}  // namespace meshnode::agent
