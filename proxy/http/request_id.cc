#include "proxy/http/request_id.h"

#include <cstdint>
#include <cstring>

namespace meshnode::proxy {

// Formatted by hand rather than with snprintf: it runs for nearly every request.
std::string requestId(std::mt19937& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 4) {
    auto word = static_cast<uint32_t>(rng());
    std::memcpy(bytes + i, &word, sizeof(word));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // variant 10
  std::string id(36, '-');
  char* out = id.data();
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++out;  // past a dash
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 0xf];
  }
  return id;
}

}  // namespace meshnode::proxy
