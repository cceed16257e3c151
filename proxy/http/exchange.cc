#include "proxy/http/exchange.h"

#include <cstdio>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "common/log.h"
#include "proxy/router/router.h"
#include "proxy/security/request_policy.h"
#include "proxy/server/worker.h"
#include "proxy/stats/stats.h"
#include "proxy/tcp/tcp_proxy.h"

namespace meshnode::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;

constexpr int kUnprocessedRetries = 3;

void applyHeaderOps(HeaderList& headers, const HeaderOps& ops) {
  for (const auto& name : ops.remove)
    removeHeader(headers, lowerCase(name));
  for (const auto& [k, v] : ops.set)
    setHeader(headers, lowerCase(k), v);
  for (const auto& [k, v] : ops.add)
    headers.emplace_back(lowerCase(k), v);
}

std::string requestId(std::mt19937& rng) {
  std::uniform_int_distribution<uint32_t> d;
  char buf[40];
  uint32_t a = d(rng), b = d(rng), c = d(rng), e = d(rng);
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-%04x-%04x%08x", a, b >> 16, b & 0xfff,
                (c & 0x3fff) | 0x8000, c >> 16, e);
  return buf;
}

std::string redirectLocation(const Redirect& r, const RequestHead& req) {
  std::string scheme = r.scheme.empty() ? req.scheme : r.scheme;
  std::string authority = r.authority.empty() ? req.authority : r.authority;
  std::string path = r.path.empty() ? req.path : r.path;
  return scheme + "://" + authority + path;
}

RequestHead upstreamHead(const RequestHead& in, const Route& route, std::mt19937& rng) {
  RequestHead h = in;
  if (!route.prefix_rewrite.empty() && route.match.path &&
      route.match.path->kind == StringMatchKind::kPrefix) {
    h.path = route.prefix_rewrite + h.path.substr(route.match.path->value.size());
  }
  if (!route.host_rewrite.empty()) h.authority = route.host_rewrite;
  if (!findHeader(h.headers, "x-request-id"))
    h.headers.emplace_back("x-request-id", requestId(rng));
  setHeader(h.headers, "x-forwarded-proto", in.scheme);
  applyHeaderOps(h.headers, route.request_headers);
  return h;
}

// After a 101 both connections become one byte stream, with no timeout but their own.
asio::awaitable<void> relayUpgrade(DownstreamStream& ds, ResponseHead response,
                                   UpstreamConnection& upstream) {
  ds.sendResponse(std::move(response), nullptr);
  co_await ds.finished();
  auto down = ds.takeTunnel();
  auto up = upstream.takeTunnel();
  if (!down || !up) {
    ds.reset();
    upstream.close();
    co_return;
  }
  co_await relayTcp(std::move(down->transport), std::move(down->buffered), std::move(up->transport),
                    std::move(up->buffered));
}

}  // namespace

void sendLocalReply(DownstreamStream& downstream, int status, const std::string& body,
                    HeaderList headers) {
  if (downstream.request_body) downstream.request_body->detach();
  if (downstream.responseStarted()) {
    downstream.reset();
    return;
  }
  ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  std::shared_ptr<BodyPipe> pipe;
  if (!body.empty()) {
    head.headers.emplace_back("content-type", "text/plain");
    head.content_length = static_cast<long long>(body.size() + 1);
    pipe = std::make_shared<BodyPipe>(body.size() + 1);
    pipe->push(body);
    pipe->push("\n");
    pipe->finish();
  } else {
    head.content_length = 0;
  }
  downstream.sendResponse(std::move(head), std::move(pipe));
}

asio::awaitable<void> runExchange(Worker& worker, ConnectionInfo info,
                                  std::shared_ptr<DownstreamStream> ds) {
  auto& stats = Stats::get();
  bump(stats.downstream_rq_active);
  struct ActiveGuard {
    ~ActiveGuard() { drop(Stats::get().downstream_rq_active); }
  } guard;
  SnapshotPtr snap = worker.snapshot();
  if (!admitRequest(*snap, info, *ds)) {
    co_await ds->finished();
    co_return;
  }
  const RequestHead& req = ds->request;

  const HttpRouteTable* table = findRouteTable(*snap, info.direction, info.port);
  const VirtualHost* vhost = table ? selectVirtualHost(*table, req.authority) : nullptr;
  const Route* route = vhost ? selectRoute(*vhost, req) : nullptr;
  if (!route) {
    sendLocalReply(*ds, 404, "no route for " + req.authority + req.path);
    co_await ds->finished();
    co_return;
  }
  if (route->direct_response) {
    sendLocalReply(*ds, route->direct_response->status, route->direct_response->body);
    co_await ds->finished();
    co_return;
  }
  if (route->redirect) {
    sendLocalReply(*ds, route->redirect->status, "",
                   {{"location", redirectLocation(*route->redirect, req)}});
    co_await ds->finished();
    co_return;
  }
  const Cluster* cluster = snap->findCluster(pickCluster(*route, worker.lb().rng()));
  std::optional<asio::ip::tcp::endpoint> target;
  if (cluster && cluster->original_dst) {
    target = info.original_dst;
  } else if (cluster) {
    if (const Endpoint* ep = worker.lb().pick(*cluster)) {
      std::error_code ec;
      auto addr = asio::ip::make_address(ep->address, ec);
      if (!ec) target = asio::ip::tcp::endpoint(addr, ep->port);
    }
  }
  if (!target) {
    sendLocalReply(*ds, 503, "no healthy upstream");
    co_await ds->finished();
    co_return;
  }

  // An upgrade (WebSocket) is an HTTP/1.1 mechanism, whatever the cluster prefers.
  bool http2 =
      !req.upgrade && (cluster->protocol == UpstreamProtocol::kHttp2 ||
                       (cluster->protocol == UpstreamProtocol::kDownstream && ds->isHttp2()));
  RequestHead head = upstreamHead(req, *route, worker.lb().rng());
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer deadline(ex);
  // Istio leaves routes without a timeout unless a VirtualService sets one.
  Millis timeout = route->timeout.count() ? route->timeout : Millis(24LL * 3600 * 1000);
  deadline.expires_after(timeout);

  // An upstream that refuses a stream before reading any of it (GOAWAY, REFUSED_STREAM, a
  // keep-alive connection closed under us) did not process the request: it is sent again on
  // another connection, as long as none of the request body was consumed.
  std::shared_ptr<UpstreamStream> upstream;
  std::shared_ptr<UpstreamConnection> upstream_conn;
  std::optional<Result<ResponseHead>> head_or;
  for (int attempt = 0; attempt < kUnprocessedRetries; ++attempt) {
    auto conn = co_await worker.pool().acquire(*cluster, *target, http2, snap->limits);
    if (!conn) {
      LOG_DEBUG("%s", conn.error().describe().c_str());
      sendLocalReply(*ds, 503,
                     conn.error().code == ErrorCode::kLimit
                         ? "upstream connection limit reached"
                         : "upstream connect error: " + conn.error().detail);
      co_await ds->finished();
      co_return;
    }
    upstream_conn = *conn;
    upstream = upstream_conn->startRequest(head, ds->request_body);
    auto response = co_await (upstream->response() || deadline.async_wait(asio::use_awaitable));
    if (response.index() == 1) {
      bump(stats.upstream_rq_timeout);
      upstream->reset();
      sendLocalReply(*ds, 504, "upstream request timeout");
      co_await ds->finished();
      co_return;
    }
    head_or = std::move(std::get<0>(response));
    if (head_or->ok() || !head_or->error().retryable ||
        (ds->request_body && ds->request_body->touched()))
      break;
  }
  if (!head_or->ok()) {
    LOG_DEBUG("%s", head_or->error().describe().c_str());
    sendLocalReply(*ds, 503, "upstream reset: " + head_or->error().detail);
    co_await ds->finished();
    co_return;
  }
  ResponseHead resp = std::move(head_or->value());
  applyHeaderOps(resp.headers, route->response_headers);
  if (resp.status == 101 && req.upgrade) {
    co_await relayUpgrade(*ds, std::move(resp), *upstream_conn);
    co_return;
  }
  auto body = upstream->response_body;
  ds->sendResponse(std::move(resp), body);

  auto finished = co_await (ds->finished() || deadline.async_wait(asio::use_awaitable));
  if (finished.index() == 1) {
    bump(stats.upstream_rq_timeout);
    upstream->reset();
    ds->reset();
  } else if (!body->drained()) {
    upstream->reset();  // the downstream went away mid-response
  }
}

}  // namespace meshnode::proxy
