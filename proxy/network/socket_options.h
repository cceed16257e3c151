#pragma once

#include <optional>
#include <string>

#include <asio/ip/tcp.hpp>

namespace meshnode::proxy {

// The destination a connection had before iptables REDIRECT sent it to us
// (SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6). Empty when there was none.
std::optional<asio::ip::tcp::endpoint> originalDestination(asio::ip::tcp::socket& socket);

// Lets every worker bind its own acceptor to the same address; the kernel spreads connections.
bool setReusePort(asio::ip::tcp::acceptor& acceptor);

std::string toString(const asio::ip::tcp::endpoint& endpoint);

}  // namespace meshnode::proxy
