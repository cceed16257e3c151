#include <algorithm>
#include <set>

#include "agent/compiler/compiler.h"
#include "agent/compiler/registry.h"

namespace meshnode::compiler {

std::vector<std::string> hostsToResolve(const istio::Resources& resources) {
  std::set<std::string> names;
  using Res = istio::ServiceEntry::Resolution;
  for (const auto& se : resources.service_entries) {
    if (se.resolution != Res::kDns && se.resolution != Res::kDnsRoundRobin) continue;
    if (se.endpoints.empty() && !se.workload_selector)
      for (const auto& h : se.hosts)
        if (h[0] != '*') names.insert(h);
    for (const auto& e : se.endpoints)
      if (!isIpAddress(e.address)) names.insert(e.address);
  }
  for (const auto& we : resources.workload_entries)
    if (!we.spec.address.empty() && !isIpAddress(we.spec.address)) names.insert(we.spec.address);
  return {names.begin(), names.end()};
}

}  // namespace meshnode::compiler
