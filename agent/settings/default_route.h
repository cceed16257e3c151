#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meshnode::agent {

// The interface of the IPv4 default route with the lowest metric, from /proc/net/route text.
std::optional<std::string> defaultRouteInterface(std::string_view proc_net_route);
// The same for IPv6, from /proc/net/ipv6_route text.
std::optional<std::string> defaultRouteInterface6(std::string_view proc_net_ipv6_route);

// The first global address of the default-route interface, IPv4 preferred.
std::optional<std::string> detectDefaultAddress();

}  // namespace meshnode::agent
