#include "proxy/http/request_id.h"

#include <cstdint>

namespace meshnode::proxy {

// Formatted by hand rather than with snprintf: it runs for nearly every request.
std::string requestId(std::mt19937& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uniform_int_distribution<uint32_t> d;
  uint32_t words[4] = {d(rng), d(rng), d(rng), d(rng)};
  words[1] = (words[1] & 0xffff0fffu) | 0x00004000u;  // version 4
  words[2] = (words[2] & 0x3fffffffu) | 0x80000000u;  // variant 10
  std::string id(36, '-');
  size_t out = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (out == 8 || out == 13 || out == 18 || out == 23) ++out;
    id[out++] = kHex[(words[nibble / 8] >> (28 - 4 * (nibble % 8))) & 0xf];
  }
  return id;
}

}  // namespace meshnode::proxy
