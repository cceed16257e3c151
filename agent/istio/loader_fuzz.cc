#include <cstdint>
#include <string>

#include "agent/istio/loader.h"

// Operators edit manifests by hand: any text must load or be rejected with an error that names
// the file, never take the agent down.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  meshnode::istio::Resources resources;
  meshnode::istio::LoadReport report;
  meshnode::istio::loadYaml(text, "fuzz.yaml", &resources, &report);
  for (const auto& e : report.errors)
    if (e.rfind("fuzz.yaml", 0) != 0) __builtin_trap();
  return 0;
}
