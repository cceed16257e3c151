#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "common/result.h"
#include "proxy/network/transport.h"
#include "proxy/snapshot/snapshot.h"
#include "security/mtls_context.h"

namespace meshnode::proxy {

// Connects to an upstream endpoint within `timeout`; errors are retryable upstream errors.
asio::awaitable<Result<asio::ip::tcp::socket>> connectUpstream(asio::ip::tcp::endpoint endpoint,
                                                               Millis timeout);

// Connects to `endpoint` of `cluster` and runs the TLS handshake its settings (or auto mTLS)
// ask for; `protocol` picks the mesh ALPN. Without a cluster (passthrough) the bytes stay
// plain. The contexts are those in force now; the connection keeps them for life.
asio::awaitable<Result<TransportPtr>> connectTransport(const Cluster* cluster,
                                                       asio::ip::tcp::endpoint endpoint,
                                                       security::AppProtocol protocol);

}  // namespace meshnode::proxy
