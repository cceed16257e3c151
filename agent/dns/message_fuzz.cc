#include <cstdint>
#include <span>

#include "agent/dns/message.h"

// Queries come from any local process and answers from upstream resolvers: every parser of a
// DNS message must reject what it cannot read without reading out of bounds.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> wire(data, size);
  (void)meshnode::agent::dns::parseHeader(wire);
  (void)meshnode::agent::dns::parseQuery(wire);
  (void)meshnode::agent::dns::parseResponse(wire);
  return 0;
}
