#include "proxy/http/exchange.h"

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "common/log.h"
#include "proxy/http/cors.h"
#include "proxy/http/fault.h"
#include "proxy/http/mirror.h"
#include "proxy/http/request_id.h"
#include "proxy/http/upstream_request.h"
#include "proxy/router/router.h"
#include "proxy/security/request_policy.h"
#include "proxy/server/worker.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"
#include "proxy/tcp/tcp_proxy.h"

namespace meshnode::proxy {
namespace {

void applyHeaderOps(HeaderList& headers, const HeaderOps& ops) {
  for (const auto& name : ops.remove)
    removeHeader(headers, lowerCase(name));
  for (const auto& [k, v] : ops.set)
    setHeader(headers, lowerCase(k), v);
  for (const auto& [k, v] : ops.add)
    headers.emplace_back(lowerCase(k), v);
}

std::string redirectLocation(const Redirect& r, const RequestHead& req) {
  std::string scheme = r.scheme.empty() ? req.scheme : r.scheme;
  std::string authority = r.authority.empty() ? req.authority : r.authority;
  std::string path = r.path.empty() ? req.path : r.path;
  return scheme + "://" + authority + path;
}

// The header list moves from the downstream request to the upstream one: from here on only
// the upstream needs it, while the downstream codec still reads method, path and flags.
RequestHead upstreamHead(RequestHead& in, const Route& route, std::mt19937& rng) {
  HeaderList headers = std::move(in.headers);
  in.headers.clear();
  RequestHead h = in;
  h.headers = std::move(headers);
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
  RequestHead& req = ds->request;

  const HttpRouteTable* table = findRouteTable(*snap, info.direction, info.port);
  const VirtualHost* vhost = table ? selectVirtualHost(*table, req.authority) : nullptr;
  const Route* route = vhost ? selectRoute(*vhost, req) : nullptr;
  if (!route) {
    sendLocalReply(*ds, 404, "no route for " + req.authority + req.path);
    co_await ds->finished();
    co_return;
  }
  // A copy, since the request's headers move upstream.
  std::optional<std::string> cors_origin;
  if (route->cors) {
    if (const std::string* allowed = allowedOrigin(*route->cors, req)) cors_origin = *allowed;
  }
  if (cors_origin && isCorsPreflight(req)) {
    bump(stats.cors_preflights_answered);
    sendLocalReply(*ds, 200, "", corsPreflightHeaders(*route->cors, *cors_origin));
    co_await ds->finished();
    co_return;
  }
  if (route->fault) {
    FaultDecision fault = decideFault(*route->fault, worker.lb().rng());
    if (fault.delay.count()) {
      bump(stats.fault_delays_injected);
      asio::steady_timer delay(co_await asio::this_coro::executor, fault.delay);
      co_await delay.async_wait(kNoThrow);
    }
    if (fault.abort_status) {
      bump(stats.fault_aborts_injected);
      sendLocalReply(*ds, fault.abort_status, kFaultAbortBody);
      co_await ds->finished();
      co_return;
    }
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
  if (!cluster) {
    sendLocalReply(*ds, 503, "no healthy upstream");
    co_await ds->finished();
    co_return;
  }
  auto request_slot = worker.pool().breakers().tryRequest(*cluster);
  if (!request_slot) {
    bump(stats.upstream_rq_overflow);
    sendLocalReply(*ds, 503, "upstream overflow", {{kOverloadedHeader, "true"}});
    co_await ds->finished();
    co_return;
  }

  // An upgrade (WebSocket) is an HTTP/1.1 mechanism, whatever the cluster prefers.
  bool http2 =
      !req.upgrade && (cluster->protocol == UpstreamProtocol::kHttp2 ||
                       (cluster->protocol == UpstreamProtocol::kDownstream && ds->isHttp2()));
  RequestHead head = upstreamHead(req, *route, worker.lb().rng());
  mirrorRequest(worker, snap, *route, head);
  // Istio leaves routes without a timeout unless a VirtualService sets one.
  Deadline deadline =
      route->timeout.count() ? std::chrono::steady_clock::now() + route->timeout : kNoDeadline;

  Forwarded fwd =
      co_await forwardRequest(worker, *snap, *cluster, *route, info, *ds, head, http2, deadline);
  if (!fwd.response) {
    sendLocalReply(*ds, fwd.local_status, fwd.local_body, std::move(fwd.local_headers));
    co_await ds->finished();
    co_return;
  }
  auto& upstream = fwd.stream;
  ResponseHead resp = std::move(*fwd.response);
  applyHeaderOps(resp.headers, route->response_headers);
  if (cors_origin) addCorsResponseHeaders(resp.headers, *route->cors, *cors_origin);
  if (resp.status == 101 && req.upgrade) {
    co_await relayUpgrade(*ds, std::move(resp), *fwd.connection);
    co_return;
  }
  auto body = upstream->response_body;
  ds->sendResponse(std::move(resp), body);
  // A response the upstream has sent in full needs nothing more from this exchange unless a
  // deadline still applies: the downstream codec drains the pipe on its own, and ending here
  // frees the exchange without another wake-up.
  if (deadline == kNoDeadline && body->ended()) co_return;

  if (!co_await ds->finished(deadline)) {
    bump(stats.upstream_rq_timeout);
    upstream->reset();
    ds->reset();
  } else if (!body->drained()) {
    upstream->reset();  // the downstream went away mid-response
  }
}

}  // namespace meshnode::proxy
