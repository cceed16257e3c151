#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace meshnode::agent::source {

// The objects the list/watch threads have seen: kind -> "namespace/name" -> stored form
// (storedForm()). Written by those threads, read by the daemon's loop, guarded by one mutex.
// A write that changes what is held bumps the generation and calls `on_change` on the writing
// thread; one that changes nothing (a relist of the same objects, a new resourceVersion of the
// same spec) is silent, so it costs no recompile.
class KubeObjectStore {
 public:
  using Objects = std::map<std::string, nlohmann::json>;
  using ByKind = std::map<std::string, Objects>;

  explicit KubeObjectStore(std::function<void()> on_change = {})
      : on_change_(std::move(on_change)) {}
  KubeObjectStore(const KubeObjectStore&) = delete;
  KubeObjectStore& operator=(const KubeObjectStore&) = delete;

  // Everything of `kind` becomes `objects` (after a list); the first list of a kind always
  // counts as a change.
  void replace(const std::string& kind, Objects objects);
  void upsert(const std::string& kind, const std::string& key, nlohmann::json object);
  void remove(const std::string& kind, const std::string& key);

  ByKind snapshot(uint64_t* generation = nullptr) const;
  uint64_t generation() const;

 private:
  void changed(std::unique_lock<std::mutex>& lock);

  std::function<void()> on_change_;
  mutable std::mutex mutex_;
  ByKind objects_;
  uint64_t generation_ = 0;
};

}  // namespace meshnode::agent::source
