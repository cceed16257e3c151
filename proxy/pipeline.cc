#include "proxy/pipeline.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "common/log.h"
#include "proxy/detect/protocol_detection.h"
#include "proxy/http/exchange.h"
#include "proxy/http/http1/server_connection.h"
#include "proxy/http/http2/server_connection.h"
#include "proxy/network/socket_options.h"
#include "proxy/router/router.h"
#include "proxy/security/request_policy.h"
#include "proxy/server/worker.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"
#include "proxy/tcp/tcp_proxy.h"
#include "proxy/tls/mesh_tls.h"
#include "proxy/tls/tls_store.h"
#include "proxy/upstream/connect.h"
#include "security/mtls_context.h"

namespace meshnode::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;

struct ActiveConnection {
  ActiveConnection() {
    bump(Stats::get().downstream_cx_total);
    bump(Stats::get().downstream_cx_active);
  }
  ~ActiveConnection() { drop(Stats::get().downstream_cx_active); }
};

// Reads the client's first bytes until the protocol is known, the detection limit is reached
// or the client stays silent past the listener's timeout (server-first protocols): then opaque.
asio::awaitable<Protocol> sniff(Transport& transport, Millis timeout, std::string* bytes,
                                std::string* sni) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  char chunk[4096];
  for (;;) {
    Protocol p = detectProtocol(*bytes);
    if (p == Protocol::kTls) {
      p = extractSni(*bytes, sni);
      if (p == Protocol::kOpaque) co_return Protocol::kTls;  // TLS we cannot read: no SNI
    }
    if (p != Protocol::kNeedMore) co_return p;
    if (bytes->size() >= kMaxDetectionBytes) co_return Protocol::kOpaque;
    std::error_code ec;
    auto r =
        co_await (transport.readSome(asio::buffer(chunk), ec) || deadline.async_wait(kNoThrow));
    if (r.index() == 1 || ec) co_return Protocol::kOpaque;
    size_t n = std::get<0>(r);
    if (n == 0) co_return Protocol::kOpaque;
    bytes->append(chunk, n);
  }
}

asio::awaitable<void> relayTo(TransportPtr downstream, std::string initial, tcp::endpoint target,
                              const Cluster* cluster) {
  auto upstream = co_await connectTransport(cluster, target, security::AppProtocol::kOpaque);
  if (!upstream) {
    LOG_DEBUG("%s", upstream.error().describe().c_str());
    co_return;
  }
  bump(Stats::get().upstream_cx_total);
  bump(Stats::get().upstream_cx_active);
  co_await relayTcp(std::move(downstream), std::move(initial), std::move(*upstream));
  drop(Stats::get().upstream_cx_active);
}

template <typename Connection>
asio::awaitable<void> serveHttp(Worker& worker, TransportPtr transport, std::string initial,
                                const Limits& limits, ConnectionInfo info) {
  auto shared_info = std::make_shared<const ConnectionInfo>(std::move(info));
  auto conn = std::make_shared<Connection>(
      std::move(transport), std::move(initial), limits,
      [&worker, shared_info](std::shared_ptr<DownstreamStream> stream) {
        startExchange(worker, shared_info, std::move(stream));
      });
  auto token = worker.track(conn);
  if (worker.draining()) conn->drain();
  co_await conn->run();
  worker.untrack(token);
}

// Whether a TLS ClientHello on a PERMISSIVE port is mesh mTLS for this proxy to terminate:
// the mesh ALPN says so (as Istio's filter chain match does), and so does a port whose
// application speaks plain HTTP. Any other TLS is the application's own and passes through.
bool isMeshTls(const std::string& hello, bool plain_http_port) {
  for (const auto& alpn : clientHelloAlpn(hello))
    if (alpn.starts_with("istio")) return true;
  return plain_http_port;
}

// Terminates mesh mTLS on an inbound connection and records the verified peer in `info`.
asio::awaitable<Result<TransportPtr>> acceptMeshTls(tcp::socket socket, std::string hello,
                                                    Millis timeout, ConnectionInfo* info) {
  auto contexts = TlsStore::get().current();
  static const TlsContexts kNone;
  auto ssl = newInboundSsl(contexts ? *contexts : kNone);
  if (!ssl) co_return ssl.error();
  auto transport =
      co_await acceptTls(std::move(socket), std::move(hello), std::move(*ssl), timeout);
  if (!transport) co_return transport.error();
  SSL* s = (*transport)->ssl();
  auto peer = security::peerIdentity(s);
  if (!peer) co_return peer.error();
  info->peer_spiffe_id = peer->uri();
  info->peer_namespace = peer->ns;
  if (auto xfcc = security::forwardedClientCert(s, contexts->mesh->identity->id()))
    info->forwarded_client_cert = *xfcc;
  co_return transport;
}

}  // namespace

asio::awaitable<void> serveConnection(Worker& worker, tcp::socket socket, Listener listener,
                                      SnapshotPtr snap) {
  ActiveConnection active;
  std::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);

  // 1. Where was the client going? iptables REDIRECT keeps it as the original destination.
  ConnectionInfo info;
  info.direction = listener.direction;
  info.downstream_remote = socket.remote_endpoint(ec);
  if (listener.use_original_dst) info.original_dst = originalDestination(socket);
  info.port = info.original_dst ? info.original_dst->port() : listener.port;
  TransportPtr transport = makeTcpTransport(std::move(socket));

  // 2. What may be done on that port decides whether the protocol needs sniffing at all:
  // server-first protocols on plain TCP ports must not wait for a client byte. An inbound port
  // under mTLS (STRICT, PERMISSIVE) always looks for a ClientHello.
  const HttpRouteTable* table = findRouteTable(*snap, info.direction, info.port);
  bool tls_routes = false;
  for (const auto& r : snap->tcp_routes)
    tls_routes = tls_routes || (!r.sni.empty() && r.direction == info.direction &&
                                (r.port == 0 || r.port == info.port));
  security::MtlsMode mtls = info.direction == Direction::kInbound
                                ? snap->security.modeFor(info.port)
                                : security::MtlsMode::kDisable;
  bool mesh_inbound = mtls == security::MtlsMode::kStrict ||
                      (mtls == security::MtlsMode::kPermissive && snap->security.hasIdentity());
  std::string initial, sni;
  Protocol protocol = Protocol::kOpaque;
  if (table || tls_routes || mesh_inbound)
    protocol = co_await sniff(*transport, listener.detection_timeout, &initial, &sni);

  // 3. PeerAuthentication: STRICT serves only mesh mTLS, PERMISSIVE also plaintext. The mesh
  // ALPN the peer chose names the protocol inside.
  bool terminate = mesh_inbound && protocol == Protocol::kTls &&
                   (mtls == security::MtlsMode::kStrict || isMeshTls(initial, table != nullptr));
  if (mtls == security::MtlsMode::kStrict && !terminate) {
    bump(Stats::get().downstream_cx_refused_total);
    LOG_INFO("%s connection from %s to port %u: plaintext refused (mTLS STRICT)",
             listener.name.c_str(), toString(info.downstream_remote).c_str(), info.port);
    co_return;
  }
  if (terminate) {
    info.sni = sni;
    auto tls = co_await acceptMeshTls(std::move(transport->socket()), std::move(initial),
                                      listener.detection_timeout * 10, &info);
    if (!tls) {
      bump(Stats::get().downstream_cx_refused_total);
      LOG_INFO("%s connection from %s to port %u: %s", listener.name.c_str(),
               toString(info.downstream_remote).c_str(), info.port, tls.error().detail.c_str());
      co_return;
    }
    transport = std::move(*tls);
    initial.clear();
    sni.clear();
    switch (security::appProtocolOfAlpn(security::negotiatedAlpn(transport->ssl()))) {
      case security::AppProtocol::kHttp2:
        protocol = Protocol::kHttp2;
        break;
      case security::AppProtocol::kHttp11:
        protocol = Protocol::kHttp1;
        break;
      default:  // "istio" or none: whatever the peer's client sent, as on a plain port
        protocol = table ? co_await sniff(*transport, listener.detection_timeout, &initial, &sni)
                         : Protocol::kOpaque;
        if (protocol == Protocol::kTls) protocol = Protocol::kOpaque;
    }
  }

  // 4. HTTP is routed per request by the route table.
  if (table && protocol == Protocol::kHttp1) {
    bump(Stats::get().downstream_cx_http1_total);
    co_await serveHttp<http1::ServerConnection>(worker, std::move(transport), std::move(initial),
                                                snap->limits, info);
    co_return;
  }
  if (table && protocol == Protocol::kHttp2) {
    bump(Stats::get().downstream_cx_http2_total);
    co_await serveHttp<http2::ServerConnection>(worker, std::move(transport), std::move(initial),
                                                snap->limits, info);
    co_return;
  }

  // 5. Everything else is a byte stream: a TLS route by SNI, a TCP route by destination, or
  // the listener's unmatched policy. Authorization sees the connection first.
  if (!authorizeConnection(*snap, info)) co_return;
  uint8_t addr[16] = {};
  bool v6 = false;
  if (info.original_dst) {
    auto a = info.original_dst->address();
    v6 = a.is_v6();
    if (v6) {
      auto b = a.to_v6().to_bytes();
      std::copy(b.begin(), b.end(), addr);
    } else {
      auto b = a.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), addr);
    }
  }
  const std::string* sni_ptr = protocol == Protocol::kTls ? &sni : nullptr;
  if (const TcpRoute* route = findTcpRoute(*snap, info.direction, info.port, v6,
                                           info.original_dst ? addr : nullptr, sni_ptr)) {
    const Cluster* cluster = snap->findCluster(route->cluster);
    std::optional<tcp::endpoint> target;
    if (cluster && cluster->original_dst) {
      target = info.original_dst;
    } else if (cluster) {
      if (const Endpoint* ep = worker.lb().pick(*cluster)) target = tcp::endpoint(ep->ip, ep->port);
    }
    if (!target) co_return;
    bump(protocol == Protocol::kTls ? Stats::get().downstream_cx_tls_total
                                    : Stats::get().downstream_cx_tcp_total);
    co_await relayTo(std::move(transport), std::move(initial), *target, cluster);
    co_return;
  }
  if (listener.unmatched == Unmatched::kPassthrough && info.original_dst) {
    bump(Stats::get().downstream_cx_passthrough_total);
    co_await relayTo(std::move(transport), std::move(initial), *info.original_dst, nullptr);
    co_return;
  }
  bump(Stats::get().downstream_cx_refused_total);
  LOG_DEBUG("%s connection from %s to port %u: no route, refused", listener.name.c_str(),
            toString(info.downstream_remote).c_str(), info.port);
}

}  // namespace meshnode::proxy
