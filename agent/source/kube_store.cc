#include "agent/source/kube_store.h"

namespace meshnode::agent::source {

void KubeObjectStore::changed(std::unique_lock<std::mutex>& lock) {
  ++generation_;
  lock.unlock();
  if (on_change_) on_change_();
}

void KubeObjectStore::replace(const std::string& kind, Objects objects) {
  std::unique_lock lock(mutex_);
  // The first list of a kind is news even when empty: it may complete the first full view.
  auto [it, first] = objects_.try_emplace(kind);
  if (!first && it->second == objects) return;
  it->second = std::move(objects);
  changed(lock);
}

void KubeObjectStore::upsert(const std::string& kind, const std::string& key,
                             nlohmann::json object) {
  std::unique_lock lock(mutex_);
  nlohmann::json& held = objects_[kind][key];
  if (held == object) return;
  held = std::move(object);
  changed(lock);
}

void KubeObjectStore::remove(const std::string& kind, const std::string& key) {
  std::unique_lock lock(mutex_);
  if (objects_[kind].erase(key) == 0) return;
  changed(lock);
}

KubeObjectStore::ByKind KubeObjectStore::snapshot(uint64_t* generation) const {
  std::lock_guard lock(mutex_);
  if (generation) *generation = generation_;
  return objects_;
}

uint64_t KubeObjectStore::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

}  // namespace meshnode::agent::source
