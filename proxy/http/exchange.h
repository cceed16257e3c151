#pragma once

#include <memory>
#include <optional>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "proxy/http/stream.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

class Worker;

// What an HTTP request knows of the connection it came on.
struct ConnectionInfo {
  Direction direction = Direction::kOutbound;
  uint16_t port = 0;  // original destination port (or the listener's)
  std::optional<asio::ip::tcp::endpoint> original_dst;
  asio::ip::tcp::endpoint downstream_remote;
};

// One request from routing to the last byte of its response, on the snapshot that was in force
// when it arrived: route, pick a cluster and endpoint, take an upstream connection, relay both
// bodies, apply the route's timeout. Runs on the connection's worker.
asio::awaitable<void> runExchange(Worker& worker, ConnectionInfo info,
                                  std::shared_ptr<DownstreamStream> downstream);

// Answers from the proxy itself (no route, no upstream, timeouts).
void sendLocalReply(DownstreamStream& downstream, int status, const std::string& body,
                    HeaderList headers = {});

}  // namespace meshnode::proxy
