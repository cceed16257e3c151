#include <cstdint>
#include <string>

#include "proxy/snapshot/snapshot_json.h"

// A snapshot file is written by the agent, but a damaged one must be refused with an error,
// never crash the proxy that would keep serving the old one.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto snap = meshnode::proxy::parseSnapshot(text, "fuzz.json");
  if (!snap.ok() && snap.error().detail.empty()) __builtin_trap();
  return 0;
}
