#pragma once

#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

namespace meshnode::proxy {

// Relays bytes both ways until both sides have finished; a half-close is passed on. Each
// direction holds one bounded buffer and writes it fully before reading again, so a slow
// reader pauses its writer.
// `to_upstream` and `to_downstream` are bytes already read from either side.
asio::awaitable<void> relayTcp(asio::ip::tcp::socket downstream, std::string to_upstream,
                               asio::ip::tcp::socket upstream, std::string to_downstream = {});

}  // namespace meshnode::proxy
