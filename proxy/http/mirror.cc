#include "proxy/http/mirror.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "common/log.h"
#include "proxy/server/worker.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy {
namespace {

// A copy nobody waits for still must not linger on a silent upstream.
constexpr Millis kMirrorTimeout{10000};

asio::awaitable<void> sendCopy(Worker& worker, SnapshotPtr snapshot, const Cluster* cluster,
                               RequestHead head, Millis timeout) {
  const Endpoint* ep = worker.lb().pick(*cluster);
  if (!ep) co_return;
  bool http2 = cluster->protocol == UpstreamProtocol::kHttp2;
  auto conn = co_await worker.pool().acquire(*cluster, asio::ip::tcp::endpoint(ep->ip, ep->port),
                                             http2, snapshot->limits);
  if (!conn) {
    LOG_DEBUG("mirror to %s: %s", cluster->name.c_str(), conn.error().describe().c_str());
    co_return;
  }
  auto stream = (*conn)->startRequest(head, nullptr);
  bump(Stats::get().upstream_rq_mirrored);
  auto r = co_await stream->response(std::chrono::steady_clock::now() + timeout);
  if (stream->response_body) stream->response_body->detach();
  if (!r || !stream->response_body || !stream->response_body->ended()) stream->reset();
}

}  // namespace

std::string shadowAuthority(const std::string& authority) {
  // Envoy puts the suffix on the host, before any port.
  size_t colon = authority.rfind(':');
  bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos &&
                  (authority[0] == '[' || authority.find(':') == colon);
  if (!has_port) return authority + "-shadow";
  return authority.substr(0, colon) + "-shadow" + authority.substr(colon);
}

void mirrorRequest(Worker& worker, const SnapshotPtr& snapshot, const Route& route,
                   const RequestHead& head) {
  if (route.mirrors.empty() || head.has_body || head.upgrade) return;
  for (const auto& m : route.mirrors) {
    if (m.percent < 100 &&
        std::uniform_real_distribution<double>(0, 100)(worker.lb().rng()) >= m.percent)
      continue;
    const Cluster* cluster = snapshot->findCluster(m.cluster);
    if (!cluster || cluster->original_dst) continue;
    RequestHead copy = head;
    copy.authority = shadowAuthority(head.authority);
    Millis timeout = route.timeout.count() ? route.timeout : kMirrorTimeout;
    asio::co_spawn(worker.context(), sendCopy(worker, snapshot, cluster, std::move(copy), timeout),
                   asio::detached);
  }
}

}  // namespace meshnode::proxy
