#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "common/result.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// Connects to an upstream endpoint within `timeout`; errors are retryable upstream errors.
asio::awaitable<Result<asio::ip::tcp::socket>> connectUpstream(asio::ip::tcp::endpoint endpoint,
                                                               Millis timeout);

}  // namespace meshnode::proxy
