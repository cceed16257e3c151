#pragma once

#include <string>

#include <asio/awaitable.hpp>

#include "proxy/network/transport.h"

namespace meshnode::proxy {

// Relays bytes both ways until both sides have finished; a half-close is passed on. Each
// direction holds one bounded buffer and writes it fully before reading again, so a slow
// reader pauses its writer. Either side may be plain TCP or TLS.
// `to_upstream` and `to_downstream` are bytes already read from either side.
asio::awaitable<void> relayTcp(TransportPtr downstream, std::string to_upstream,
                               TransportPtr upstream, std::string to_downstream = {});

}  // namespace meshnode::proxy
