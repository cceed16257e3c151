#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/dns/message.h"

namespace meshnode::agent::dns::testing {

// A query as a stub resolver sends it: RD set, one question, optionally an EDNS OPT record.
inline std::vector<uint8_t> makeQuery(uint16_t id, const std::string& name, uint16_t type,
                                      uint16_t edns_size = 0) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8),
                            static_cast<uint8_t>(id),
                            0x01,
                            0x00,
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            static_cast<uint8_t>(edns_size ? 1 : 0)};
  auto n = encodeName(name);
  q.insert(q.end(), n->begin(), n->end());
  q.push_back(static_cast<uint8_t>(type >> 8));
  q.push_back(static_cast<uint8_t>(type));
  q.push_back(0);
  q.push_back(1);
  if (edns_size) {
    std::vector<uint8_t> opt = {
        0, 0, 41, static_cast<uint8_t>(edns_size >> 8), static_cast<uint8_t>(edns_size), 0, 0, 0,
        0, 0, 0};
    q.insert(q.end(), opt.begin(), opt.end());
  }
  return q;
}

// The answers' rdata of a reply we built (answers name the question by pointer).
inline std::vector<std::vector<uint8_t>> answerData(const std::vector<uint8_t>& reply) {
  std::vector<std::vector<uint8_t>> out;
  auto info = parseResponse(reply);
  if (!info.ok()) return out;
  for (size_t i = 0; i < info->header.ancount; ++i) {
    size_t ttl = info->ttl_offsets[i];
    size_t len = (static_cast<size_t>(reply[ttl + 4]) << 8) | reply[ttl + 5];
    out.emplace_back(reply.begin() + static_cast<std::ptrdiff_t>(ttl + 6),
                     reply.begin() + static_cast<std::ptrdiff_t>(ttl + 6 + len));
  }
  return out;
}

}  // namespace meshnode::agent::dns::testing
