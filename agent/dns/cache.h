#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/dns/message.h"

namespace meshnode::agent::dns {

// Forwarded responses by question, kept for their TTL clamped to [floor, ceiling]. Served
// copies carry the client's ID and the TTLs that remain. Used by the DNS proxy thread only.
class ResponseCache {
 public:
  using Clock = std::chrono::steady_clock;

  ResponseCache(uint32_t ttl_floor, uint32_t ttl_ceiling, size_t max_entries = 4096)
      : floor_(ttl_floor), ceiling_(ttl_ceiling), max_entries_(max_entries) {}

  // Keeps `response` if it is worth keeping: NOERROR or NXDOMAIN, not truncated.
  void store(const Question& question, std::span<const uint8_t> response, Clock::time_point now);
  std::optional<std::vector<uint8_t>> find(const Question& question, uint16_t id,
                                           Clock::time_point now);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<uint8_t> wire;
    std::vector<size_t> ttl_offsets;
    Clock::time_point expires;
  };

  static std::string key(const Question& q);
  void evict(Clock::time_point now);

  uint32_t floor_;
  uint32_t ceiling_;
  size_t max_entries_;
  std::map<std::string, Entry> entries_;
};

}  // namespace meshnode::agent::dns
