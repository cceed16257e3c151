#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

class Worker;

// Everything that happens to an accepted connection, inbound or outbound; see
// docs/architecture.md for the stages.
asio::awaitable<void> serveConnection(Worker& worker, asio::ip::tcp::socket socket,
                                      Listener listener, SnapshotPtr snapshot);

}  // namespace meshnode::proxy
