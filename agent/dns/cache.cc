#include "agent/dns/cache.h"

#include <algorithm>

namespace meshnode::agent::dns {

std::string ResponseCache::key(const Question& q) {
  return q.name + '/' + std::to_string(q.type) + '/' + std::to_string(q.klass);
}

void ResponseCache::store(const Question& question, std::span<const uint8_t> response,
                          Clock::time_point now) {
  auto info = parseResponse(response);
  if (!info.ok() || info->header.truncated()) return;
  uint8_t rcode = info->header.rcode();
  if (rcode != kRcodeNoError && rcode != kRcodeNxDomain) return;
  if (info->question.name != question.name || info->question.type != question.type) return;
  // A negative answer without an SOA says nothing of how long it holds: keep it briefly.
  uint32_t ttl = std::clamp(info->min_ttl.value_or(floor_), floor_, ceiling_);
  if (ttl == 0) return;
  if (entries_.size() >= max_entries_) evict(now);
  entries_[key(question)] = Entry{std::vector<uint8_t>(response.begin(), response.end()),
                                  std::move(info->ttl_offsets), now + std::chrono::seconds(ttl)};
}

std::optional<std::vector<uint8_t>> ResponseCache::find(const Question& question, uint16_t id,
                                                        Clock::time_point now) {
  auto it = entries_.find(key(question));
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  std::vector<uint8_t> out = it->second.wire;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second.expires - now);
  uint32_t remaining = static_cast<uint32_t>(std::max<int64_t>(1, left.count()));
  for (size_t off : it->second.ttl_offsets)
    writeU32(out, off, remaining);
  writeU16(out, 0, id);
  return out;
}

void ResponseCache::evict(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& e) { return e.second.expires <= now; });
  // Still full: drop the entry closest to expiry, it had the least left to give.
  while (entries_.size() >= max_entries_) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.expires < b.second.expires;
    });
    entries_.erase(oldest);
  }
}

}  // namespace meshnode::agent::dns
