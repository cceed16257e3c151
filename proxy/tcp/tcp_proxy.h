#pragma once

#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

namespace meshnode::proxy {

// Relays bytes both ways until both sides have finished; a half-close is passed on. Each
// direction holds one bounded buffer and writes it fully before reading again, so a slow
// reader pauses its writer.
asio::awaitable<void> relayTcp(asio::ip::tcp::socket downstream, std::string initial_bytes,
                               asio::ip::tcp::socket upstream);

}  // namespace meshnode::proxy
