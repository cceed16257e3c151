#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace meshnode::agent::dns {

// The small part of RFC 1035 the proxy needs: read one question, answer it, and find the TTLs
// of a forwarded response so the cache can age them. Every read is bounds-checked; anything
// malformed is an Error, never a guess.

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kClassIn = 1;

inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeFormErr = 1;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;
inline constexpr uint8_t kRcodeNotImp = 4;
inline constexpr uint8_t kRcodeRefused = 5;

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxMessage = 65535;
inline constexpr size_t kClassicUdpLimit = 512;

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  bool response() const { return (flags & 0x8000) != 0; }
  uint8_t opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xF); }
  bool truncated() const { return (flags & 0x0200) != 0; }
  bool recursionDesired() const { return (flags & 0x0100) != 0; }
  uint8_t rcode() const { return static_cast<uint8_t>(flags & 0xF); }
};

struct Question {
  // Lowercase, dot-separated, without the trailing dot; "" is the root.
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
};

// A client's query: one question, no answers.
struct Query {
  Header header;
  Question question;
  // Where the question ends in the wire bytes, so replies can echo it byte for byte.
  size_t question_end = 0;
  // The largest UDP reply the client accepts (512, or its EDNS payload size).
  size_t udp_limit = kClassicUdpLimit;
};

// What the cache needs from an upstream response.
struct ResponseInfo {
  Header header;
  Question question;
  // Offsets of the 32-bit TTL of every record except OPT, to rewrite them when aging.
  std::vector<size_t> ttl_offsets;
  // Smallest TTL among answers; for a negative answer, among the authority records (the SOA).
  std::optional<uint32_t> min_ttl;
};

struct Record {
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
};

Result<Header> parseHeader(std::span<const uint8_t> wire);
Result<Query> parseQuery(std::span<const uint8_t> wire);
Result<ResponseInfo> parseResponse(std::span<const uint8_t> wire);

// A reply to `query` (whose wire bytes are `wire`): the question echoed, then `answers`, each
// naming the question by a compression pointer.
std::vector<uint8_t> buildReply(const Query& query, std::span<const uint8_t> wire, uint8_t rcode,
                                bool authoritative, const std::vector<Record>& answers);

// A header-only error reply for a message whose question could not be read.
std::vector<uint8_t> buildHeaderOnlyReply(uint16_t id, uint16_t query_flags, uint8_t rcode);

// The header and question of `reply` with TC set: the client retries over TCP.
std::vector<uint8_t> truncateReply(const Query& query, std::span<const uint8_t> wire,
                                   std::span<const uint8_t> reply);

// Encodes "a.b.c" as labels; fails on empty labels or labels over 63 bytes.
Result<std::vector<uint8_t>> encodeName(std::string_view name);

void writeU16(std::vector<uint8_t>& out, size_t offset, uint16_t v);
void writeU32(std::vector<uint8_t>& out, size_t offset, uint32_t v);

}  // namespace meshnode::agent::dns
