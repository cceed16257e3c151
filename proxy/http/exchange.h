#pragma once

#include <memory>
#include <optional>
#include <string>

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
  // Set when the inbound side terminated mesh mTLS: the verified peer, the server name the
  // peer asked for, and the x-forwarded-client-cert element that describes the peer.
  std::string peer_spiffe_id;  // spiffe://td/ns/x/sa/y
  std::string peer_namespace;
  std::string sni;
  std::string forwarded_client_cert;
};

// Starts one request, which runs from routing to the last byte of its response on the snapshot
// in force when it arrived: route, pick a cluster and endpoint, take an upstream connection,
// relay both bodies, apply the route's timeout. Called on the connection's worker.
// `info` is the connection's, shared by its requests.
void startExchange(Worker& worker, const std::shared_ptr<const ConnectionInfo>& info,
                   std::shared_ptr<DownstreamStream> downstream);

// Answers from the proxy itself (no route, no upstream, timeouts).
void sendLocalReply(DownstreamStream& downstream, int status, const std::string& body,
                    HeaderList headers = {});

}  // namespace meshnode::proxy
