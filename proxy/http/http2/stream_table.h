#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace meshnode::proxy::http2 {

// The open streams of one HTTP/2 connection, by id. A vector sorted by id rather than a map:
// each side opens streams with ever larger ids (RFC 9113 5.1.1), so a new one goes at the end;
// a connection has at most a few hundred open; and a lookup, which every frame makes, searches
// one contiguous block, with no allocation per stream.
template <typename Stream>
class StreamTable {
 public:
  using Entry = std::pair<int32_t, std::shared_ptr<Stream>>;

  Stream* find(int32_t id) const {
    auto it = lower(id);
    return it != entries_.end() && it->first == id ? it->second.get() : nullptr;
  }
  // The stream's owning pointer; `id` must be open.
  const std::shared_ptr<Stream>& at(int32_t id) const { return lower(id)->second; }
  void add(int32_t id, std::shared_ptr<Stream> stream) {
    if (entries_.empty() || entries_.back().first < id) {
      entries_.emplace_back(id, std::move(stream));
      return;
    }
    auto it = lower(id);
    if (it != entries_.end() && it->first == id)
      it->second = std::move(stream);
    else
      entries_.emplace(it, id, std::move(stream));
  }
  // Null when `id` is not open.
  std::shared_ptr<Stream> remove(int32_t id) {
    auto it = lower(id);
    if (it == entries_.end() || it->first != id) return nullptr;
    auto stream = std::move(it->second);
    entries_.erase(it);
    return stream;
  }
  // Empties the table, handing over what it held.
  std::vector<Entry> takeAll() { return std::exchange(entries_, {}); }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  // The first entry at or past `id`; const or not as the table is.
  auto lower(int32_t id) const { return lowerIn(entries_, id); }
  auto lower(int32_t id) { return lowerIn(entries_, id); }
  template <typename Entries>
  static auto lowerIn(Entries& entries, int32_t id) {
    return std::lower_bound(entries.begin(), entries.end(), id,
                            [](const Entry& e, int32_t v) { return e.first < v; });
  }

  std::vector<Entry> entries_;
};

}  // namespace meshnode::proxy::http2
