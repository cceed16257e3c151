#include "agent/registry/file_registry.h"

#include <cerrno>
#include <cstring>
#include <set>

#include <dirent.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"

namespace meshnode::agent {
namespace {

std::string key(const std::string& name_space, const std::string& name) {
  return name_space + "/" + name;
}

// Closes a DIR*.
struct Dir {
  DIR* d;
  explicit Dir(const std::string& path) : d(::opendir(path.c_str())) {}
  ~Dir() {
    if (d != nullptr) ::closedir(d);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
};

Error notRegistered(const std::string& name_space, const std::string& name) {
  return makeError(ErrorCode::kNotFound, Side::kInternal,
                   "WorkloadEntry " + key(name_space, name) + " was not registered here");
}

}  // namespace

std::string FileRegistry::pathOf(const std::string& name_space, const std::string& name) const {
  return options_.directory + "/" + name_space + "." + name + ".json";
}

Status FileRegistry::write(const WorkloadEntry& entry) {
  Status s = writeFileAtomic(pathOf(entry.name_space, entry.name), toJson(entry).dump(2) + "\n");
  if (!s) {
    Error e = std::move(s).takeError();
    e.retryable = true;
    return e;
  }
  return {};
}

Status FileRegistry::registerEntry(const WorkloadEntry& entry) {
  std::lock_guard lock(mutex_);
  WorkloadEntry e = entry;
  e.annotations.erase(kDisconnectedAt);
  own_[key(e.name_space, e.name)] = e;
  return write(e);
}

Status FileRegistry::updateHealth(const std::string& name_space, const std::string& name,
                                  const HealthCondition& health) {
  std::lock_guard lock(mutex_);
  auto it = own_.find(key(name_space, name));
  if (it == own_.end()) return notRegistered(name_space, name);
  it->second.health = health;
  return write(it->second);
}

Status FileRegistry::disconnect(const std::string& name_space, const std::string& name,
                                std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = own_.find(key(name_space, name));
  if (it == own_.end()) return notRegistered(name_space, name);
  it->second.annotations[kDisconnectedAt] = rfc3339(now);
  return write(it->second);
}

Result<std::vector<WorkloadEntry>> FileRegistry::list() {
  auto entries = scanRegistryDirectory(options_.directory, options_.cleanup_grace);
  if (!entries.ok()) return std::move(entries).takeError();
  std::vector<WorkloadEntry> out;
  for (auto& [k, e] : *entries)
    out.push_back(std::move(e));
  return out;
}

Result<std::map<std::string, WorkloadEntry>> scanRegistryDirectory(
    const std::string& directory, std::chrono::milliseconds cleanup_grace) {
  Dir dir(directory);
  if (dir.d == nullptr) {
    return makeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, Side::kSystem,
                     "registry directory " + directory + ": " + std::strerror(errno), true);
  }
  std::map<std::string, WorkloadEntry> out;
  auto now = std::chrono::system_clock::now();
  while (dirent* d = ::readdir(dir.d)) {
    std::string file = d->d_name;
    if (file.size() < 6 || file.compare(file.size() - 5, 5, ".json") != 0) continue;
    std::string path = directory + "/" + file;
    auto text = readFile(path);
    if (!text.ok()) continue;  // removed between readdir and open
    auto entry = parseEntry(*text, path);
    if (!entry.ok()) {
      LOG_WARN("registry: skipping %s", entry.error().detail.c_str());
      continue;
    }
    if (entry->disconnected()) {
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0) {
        auto written = std::chrono::system_clock::time_point(
            std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
        if (now - written >= cleanup_grace) {
          LOG_INFO("registry: removing %s, disconnected since %s", path.c_str(),
                   entry->annotations[kDisconnectedAt].c_str());
          ::unlink(path.c_str());
          continue;
        }
      }
    }
    out[key(entry->name_space, entry->name)] = std::move(entry).value();
  }
  return out;
}

}  // namespace meshnode::agent
