#include "proxy/upstream/hash_ring.h"

#include <algorithm>
#include <string>

namespace meshnode::proxy {
namespace {

constexpr uint64_t kMaxPoints = 8 * 1024 * 1024;

std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

std::optional<std::string_view> queryValue(std::string_view path, std::string_view name) {
  size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

uint64_t stableHash(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  // FNV-1a alone clusters similar keys ("host_1", "host_2"); the finaliser spreads them.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

HashRing::HashRing(const std::vector<Endpoint>& endpoints, uint64_t minimum_ring_size)
    : endpoints_(endpoints.size()) {
  uint64_t total_weight = 0;
  for (const auto& e : endpoints)
    total_weight += e.weight;
  if (total_weight == 0) return;
  // Points per unit of weight: the smallest power of two that reaches the minimum size. It
  // does not change when one endpoint comes or goes (unless the total crosses a power of two),
  // so the other endpoints keep their points and their keys.
  uint64_t target = std::clamp<uint64_t>(minimum_ring_size, 1, kMaxPoints);
  uint64_t per_unit = 1;
  while (per_unit * total_weight < target && per_unit * 2 * total_weight <= kMaxPoints)
    per_unit *= 2;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    std::string base = endpoints[i].address + ":" + std::to_string(endpoints[i].port) + "_";
    for (uint64_t p = 0; p < per_unit * endpoints[i].weight; ++p)
      ring_.emplace_back(stableHash(base + std::to_string(p)), static_cast<uint32_t>(i));
  }
  std::sort(ring_.begin(), ring_.end());
}

std::optional<size_t> HashRing::pick(uint64_t hash,
                                     const std::function<bool(size_t)>& usable) const {
  if (ring_.empty()) return std::nullopt;
  auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(hash, uint32_t{0}));
  size_t start = static_cast<size_t>(it - ring_.begin()) % ring_.size();
  std::vector<bool> rejected(endpoints_, false);
  size_t seen = 0;
  for (size_t i = 0; i < ring_.size() && seen < endpoints_; ++i) {
    uint32_t index = ring_[(start + i) % ring_.size()].second;
    if (rejected[index]) continue;
    if (usable(index)) return index;
    rejected[index] = true;
    ++seen;
  }
  return std::nullopt;
}

std::optional<uint64_t> requestHashKey(const ConsistentHash& policy, const RequestHead& request,
                                       std::string_view source_ip) {
  if (!policy.header.empty()) {
    const std::string* v = findHeader(request.headers, lowerCase(policy.header));
    if (v) return stableHash(*v);
  } else if (!policy.cookie.empty()) {
    for (const auto& [name, value] : request.headers) {
      if (name != "cookie") continue;
      if (auto v = cookieValue(value, policy.cookie)) return stableHash(*v);
    }
  } else if (policy.source_ip) {
    if (!source_ip.empty()) return stableHash(source_ip);
  } else if (!policy.query_parameter.empty()) {
    if (auto v = queryValue(request.path, policy.query_parameter)) return stableHash(*v);
  }
  return std::nullopt;
}

}  // namespace meshnode::proxy
