#include <cstdint>
#include <string>

#include "proxy/detect/protocol_detection.h"

// Any byte string a client may open with: detection and SNI extraction must stay in bounds and
// agree with each other.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  meshnode::proxy::Protocol p = meshnode::proxy::detectProtocol(bytes);
  std::string sni;
  meshnode::proxy::Protocol tls = meshnode::proxy::extractSni(bytes, &sni);
  if (tls == meshnode::proxy::Protocol::kTls && p != meshnode::proxy::Protocol::kTls)
    __builtin_trap();
  if (sni.size() > size) __builtin_trap();
  return 0;
}
