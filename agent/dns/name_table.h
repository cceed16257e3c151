#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshnode::agent::dns {

// A mesh host as the agent knows it: a ServiceEntry host (or a Service's FQDN) and the
// addresses it declares, which may be none.
struct MeshHost {
  std::string name;
  std::vector<std::string> addresses;
};

struct HostAddresses {
  std::vector<std::array<uint8_t, 4>> v4;
  std::vector<std::array<uint8_t, 16>> v6;
  bool allocated = false;
};

// Names the DNS proxy answers itself. Immutable once built; the agent builds a new one when
// the mesh changes and hands it to the proxy thread.
class NameTable {
 public:
  enum class Match { kFound, kNxDomain, kNotMesh };

  struct Lookup {
    Match match = Match::kNotMesh;
    const HostAddresses* addresses = nullptr;
  };

  // Hosts without addresses get one from 240.240.0.0/16 and one from 2001:2::/48, chosen by a
  // hash of the name (probing past collisions in name order), so a host keeps its address
  // across restarts and across changes to other hosts. `search_domains` expand short names;
  // names inside `zones` that are not in the table are NXDOMAIN rather than forwarded.
  static Result<NameTable> build(std::vector<MeshHost> hosts,
                                 std::vector<std::string> search_domains,
                                 std::vector<std::string> zones);

  Lookup lookup(std::string_view name) const;
  const std::map<std::string, HostAddresses>& hosts() const { return hosts_; }

 private:
  const HostAddresses* find(const std::string& name) const;

  std::map<std::string, HostAddresses> hosts_;
  std::vector<std::string> search_domains_;
  std::vector<std::string> zones_;
};

}  // namespace meshnode::agent::dns
