#include "agent/settings/default_route.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "common/file.h"

namespace meshnode::agent {
namespace {

// Frees getifaddrs' list.
struct IfAddrs {
  ifaddrs* list = nullptr;
  IfAddrs() {
    if (::getifaddrs(&list) != 0) list = nullptr;
  }
  ~IfAddrs() {
    if (list != nullptr) ::freeifaddrs(list);
  }
  IfAddrs(const IfAddrs&) = delete;
  IfAddrs& operator=(const IfAddrs&) = delete;
};

std::optional<std::string> addressOf(const std::string& interface, int family) {
  IfAddrs addrs;
  for (ifaddrs* a = addrs.list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != family) continue;
    if (interface != a->ifa_name) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (family == AF_INET) {
      sockaddr_in sin;
      std::memcpy(&sin, a->ifa_addr, sizeof(sin));
      ::inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
    } else {
      sockaddr_in6 sin6;
      std::memcpy(&sin6, a->ifa_addr, sizeof(sin6));
      if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr)) continue;
      ::inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
    }
    return std::string(text);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> defaultRouteInterface(std::string_view proc_net_route) {
  std::istringstream in{std::string(proc_net_route)};
  std::string line;
  std::getline(in, line);  // column titles
  std::optional<std::string> best;
  unsigned long best_metric = std::numeric_limits<unsigned long>::max();
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, destination, gateway, flags, refcnt, use, metric, mask;
    if (!(f >> iface >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask)) {
      continue;
    }
    if (destination != "00000000" || mask != "00000000") continue;
    unsigned long route_flags = std::strtoul(flags.c_str(), nullptr, 16);
    if ((route_flags & 0x1) == 0) continue;  // RTF_UP
    unsigned long m = std::strtoul(metric.c_str(), nullptr, 10);
    if (!best || m < best_metric) {
      best = iface;
      best_metric = m;
    }
  }
  return best;
}

std::optional<std::string> defaultRouteInterface6(std::string_view proc_net_ipv6_route) {
  std::istringstream in{std::string(proc_net_ipv6_route)};
  std::string line;
  std::optional<std::string> best;
  unsigned long best_metric = std::numeric_limits<unsigned long>::max();
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string dest, dest_len, src, src_len, next_hop, metric, refcnt, use, flags, iface;
    if (!(f >> dest >> dest_len >> src >> src_len >> next_hop >> metric >> refcnt >> use >> flags >>
          iface)) {
      continue;
    }
    if (dest != std::string(32, '0') || dest_len != "00" || iface == "lo") continue;
    unsigned long route_flags = std::strtoul(flags.c_str(), nullptr, 16);
    if ((route_flags & 0x1) == 0 || (route_flags & 0x200) != 0) continue;  // up, not reject
    unsigned long m = std::strtoul(metric.c_str(), nullptr, 16);
    if (!best || m < best_metric) {
      best = iface;
      best_metric = m;
    }
  }
  return best;
}

std::optional<std::string> detectDefaultAddress() {
  if (auto route = readFile("/proc/net/route"); route.ok()) {
    if (auto iface = defaultRouteInterface(*route)) {
      if (auto addr = addressOf(*iface, AF_INET)) return addr;
    }
  }
  if (auto route = readFile("/proc/net/ipv6_route"); route.ok()) {
    if (auto iface = defaultRouteInterface6(*route)) return addressOf(*iface, AF_INET6);
  }
  return std::nullopt;
}

}  // namespace meshnode::agent
