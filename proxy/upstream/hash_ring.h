#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/http/message.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// A ketama-style consistent-hash ring over a cluster's endpoints: each endpoint owns points in
// proportion to its weight (at least minimum_ring_size points in all, at most 8M), and a key
// goes to the owner of the first point at or after its hash. Adding or removing one endpoint
// moves only the keys of that endpoint. Built once per endpoint set; read-only afterwards.
class HashRing {
 public:
  HashRing(const std::vector<Endpoint>& endpoints, uint64_t minimum_ring_size);

  // The index of the endpoint owning `hash`, walking on past endpoints `usable` rejects; none
  // when no endpoint is usable.
  std::optional<size_t> pick(uint64_t hash, const std::function<bool(size_t)>& usable) const;
  size_t points() const { return ring_.size(); }

 private:
  std::vector<std::pair<uint64_t, uint32_t>> ring_;  // (point, endpoint index), sorted
  size_t endpoints_ = 0;
};

// A stable 64-bit hash (FNV-1a with a final avalanche); the same on every worker and run.
uint64_t stableHash(std::string_view data);

// The key a consistent-hash policy takes from a request: a header, a cookie, the downstream
// address or a query parameter. None when the request lacks it (the pick is then random).
std::optional<uint64_t> requestHashKey(const ConsistentHash& policy, const RequestHead& request,
                                       std::string_view source_ip);

}  // namespace meshnode::proxy
