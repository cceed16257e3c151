#include "agent/dns/name_table.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <arpa/inet.h>

namespace meshnode::agent::dns {
namespace {

uint64_t fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = seed;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string normalize(std::string_view name) {
  std::string out(name);
  while (!out.empty() && out.back() == '.')
    out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

bool within(std::string_view name, std::string_view zone) {
  if (name == zone) return true;
  return name.size() > zone.size() && name.ends_with(zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

}  // namespace

Result<NameTable> NameTable::build(std::vector<MeshHost> hosts,
                                   std::vector<std::string> search_domains,
                                   std::vector<std::string> zones) {
  NameTable table;
  for (auto& d : search_domains)
    table.search_domains_.push_back(normalize(d));
  for (auto& z : zones)
    table.zones_.push_back(normalize(z));
  std::vector<std::string> to_allocate;
  for (MeshHost& host : hosts) {
    std::string name = normalize(host.name);
    if (name.empty() || name.size() > 253) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       "mesh host \"" + host.name + "\" is not a DNS name");
    }
    HostAddresses& entry = table.hosts_[name];
    for (const std::string& a : host.addresses) {
      std::array<uint8_t, 4> v4{};
      std::array<uint8_t, 16> v6{};
      if (::inet_pton(AF_INET, a.c_str(), v4.data()) == 1) {
        entry.v4.push_back(v4);
      } else if (::inet_pton(AF_INET6, a.c_str(), v6.data()) == 1) {
        entry.v6.push_back(v6);
      } else {
        // ServiceEntry addresses may be CIDRs; those route traffic but name no single host.
        continue;
      }
    }
  }
  for (auto& [name, entry] : table.hosts_) {
    if (entry.v4.empty() && entry.v6.empty() && !name.starts_with("*.")) {
      to_allocate.push_back(name);
    }
  }
  // `hosts_` iterates in name order, so probing past a collision is deterministic.
  std::set<uint32_t> used4;
  std::set<std::array<uint8_t, 16>> used6;
  for (const std::string& name : to_allocate) {
    HostAddresses& entry = table.hosts_[name];
    entry.allocated = true;
    // 240.240.0.1 .. 240.240.255.254: never the network or broadcast-looking ends.
    uint32_t slot = static_cast<uint32_t>(fnv1a(name, 0xcbf29ce484222325ULL) % 65534) + 1;
    while (used4.count(slot) != 0)
      slot = slot % 65534 + 1;
    used4.insert(slot);
    entry.v4.push_back({240, 240, static_cast<uint8_t>(slot >> 8), static_cast<uint8_t>(slot)});
    std::array<uint8_t, 16> v6{0x20, 0x01, 0x00, 0x02, 0x00, 0x00};
    uint64_t low = fnv1a(name, 0x84222325cbf29ce4ULL);
    for (uint64_t probe = 0;; ++probe) {
      uint64_t v = low + probe;
      for (int i = 0; i < 8; ++i)
        v6[8 + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
      if (used6.insert(v6).second) break;
    }
    entry.v6.push_back(v6);
  }
  return table;
}

const HostAddresses* NameTable::find(const std::string& name) const {
  if (auto it = hosts_.find(name); it != hosts_.end()) return &it->second;
  // "*.example.com" covers "a.example.com" and "a.b.example.com".
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    if (auto it = hosts_.find("*" + name.substr(dot)); it != hosts_.end()) return &it->second;
  }
  return nullptr;
}

NameTable::Lookup NameTable::lookup(std::string_view query_name) const {
  std::string name = normalize(query_name);
  if (const HostAddresses* a = find(name)) return {Match::kFound, a};
  for (const std::string& domain : search_domains_) {
    if (const HostAddresses* a = find(name + "." + domain)) return {Match::kFound, a};
  }
  for (const std::string& zone : zones_) {
    if (within(name, zone)) return {Match::kNxDomain, nullptr};
  }
  return {Match::kNotMesh, nullptr};
}

}  // namespace meshnode::agent::dns
