#include "proxy/http/exchange.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
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
#include "proxy/stream/in_flight.h"
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

namespace {

// One request from routing to the end of its downstream stream, on the snapshot that was in
// force when it arrived. Its steps are plain functions; two drivers run them. The callback
// driver (advance) serves a request that never has to wait on a timer or a new connection
// without a coroutine frame: it starts the try at once and continues from the upstream's
// response callback. Anything that must wait goes to the coroutine driver (drive).
//
// The downstream stream's finish hook owns the exchange, so it lives exactly as long as the
// request it serves; the upstream's response callback holds it weakly. The worker breaks the
// hook's cycle for exchanges still open at shutdown (abandon).
class Exchange final : public Parked,
                       public FinishListener,
                       public ResponseListener,
                       public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(Worker& worker, std::shared_ptr<const ConnectionInfo> info,
           std::shared_ptr<DownstreamStream> ds)
      : worker_(worker), info_(std::move(info)), ds_(std::move(ds)), snap_(worker.snapshot()) {
    bump(Stats::get().downstream_rq_active);
    ++requests_in_flight;
    worker_.park(*this);
  }
  ~Exchange() override {
    worker_.unpark(*this);
    drop(Stats::get().downstream_rq_active);
    --requests_in_flight;
  }

  enum class Step { kAnswered, kDelay, kContinue };

  void holdUntilFinished() { ds_->onFinished(shared_from_this()); }

  // Admission, the route, a CORS preflight and the fault roll.
  Step route() {
    auto& stats = Stats::get();
    if (!admitRequest(*snap_, *info_, *ds_)) return Step::kAnswered;
    const RequestHead& req = ds_->request;
    const HttpRouteTable* table = findRouteTable(*snap_, info_->direction, info_->port);
    const VirtualHost* vhost = table ? selectVirtualHost(*table, req.authority) : nullptr;
    route_ = vhost ? selectRoute(*vhost, req) : nullptr;
    if (!route_) return answer(404, "no route for " + req.authority + req.path);
    if (route_->cors) {
      // A copy, since the request's headers move upstream.
      if (const std::string* allowed = allowedOrigin(*route_->cors, req)) cors_origin_ = *allowed;
    }
    if (cors_origin_ && isCorsPreflight(req)) {
      bump(stats.cors_preflights_answered);
      sendLocalReply(*ds_, 200, "", corsPreflightHeaders(*route_->cors, *cors_origin_));
      return Step::kAnswered;
    }
    if (route_->fault) {
      fault_ = decideFault(*route_->fault, worker_.lb().rng());
      if (fault_.delay.count()) {
        bump(stats.fault_delays_injected);
        return Step::kDelay;
      }
    }
    return Step::kContinue;
  }
  Millis faultDelay() const { return fault_.delay; }

  // After the fault delay: the answers the route gives itself, the cluster, its circuit
  // breaker and the upstream request.
  Step prepare() {
    auto& stats = Stats::get();
    RequestHead& req = ds_->request;
    if (fault_.abort_status) {
      bump(stats.fault_aborts_injected);
      return answer(fault_.abort_status, kFaultAbortBody);
    }
    if (route_->direct_response)
      return answer(route_->direct_response->status, route_->direct_response->body);
    if (route_->redirect) {
      sendLocalReply(*ds_, route_->redirect->status, "",
                     {{"location", redirectLocation(*route_->redirect, req)}});
      return Step::kAnswered;
    }
    const Cluster* cluster = snap_->findCluster(pickCluster(*route_, worker_.lb().rng()));
    if (!cluster) return answer(503, "no healthy upstream");
    request_slot_ = worker_.pool().breakers().tryRequest(*cluster);
    if (!request_slot_) {
      bump(stats.upstream_rq_overflow);
      sendLocalReply(*ds_, 503, "upstream overflow", {{kOverloadedHeader, "true"}});
      return Step::kAnswered;
    }
    // An upgrade (WebSocket) is an HTTP/1.1 mechanism, whatever the cluster prefers.
    bool http2 =
        !req.upgrade && (cluster->protocol == UpstreamProtocol::kHttp2 ||
                         (cluster->protocol == UpstreamProtocol::kDownstream && ds_->isHttp2()));
    head_ = upstreamHead(req, *route_, worker_.lb().rng());
    mirrorRequest(worker_, snap_, *route_, head_);
    // Istio leaves routes without a timeout unless a VirtualService sets one.
    if (route_->timeout.count()) deadline_ = std::chrono::steady_clock::now() + route_->timeout;
    forwarding_.emplace(worker_, *snap_, *cluster, *route_, *info_, *ds_, head_, http2, deadline_);
    return Step::kContinue;
  }

  // Hands the outcome of the tries to the downstream. True when it is a 101 to an upgrade,
  // for upgrade() to tunnel.
  bool relay(Forwarded f) {
    // The tries are over. Their state goes now, while it is in cache, rather than with the
    // exchange when the response has been written.
    forwarding_.reset();
    if (!f.response) {
      sendLocalReply(*ds_, f.local_status, f.local_body, std::move(f.local_headers));
      return false;
    }
    up_stream_ = f.stream;
    up_active_ = std::move(f.active);
    ResponseHead& response = *f.response;
    applyHeaderOps(response.headers, route_->response_headers);
    if (cors_origin_) addCorsResponseHeaders(response.headers, *route_->cors, *cors_origin_);
    if (response.status == 101 && ds_->request.upgrade) {
      up_connection_ = std::move(f.connection);
      upgrade_response_ = std::move(response);
      upgrading_ = true;
      return true;
    }
    relayed_ = true;
    ds_->sendResponse(std::move(response), f.stream->response_body);
    // A downstream already gone ignores the response; the upstream is then of no use.
    if (finished_) resetUndrained();
    return false;
  }

  // After a 101 both connections become one byte stream, with no timeout but their own.
  asio::awaitable<void> upgrade() {
    ds_->sendResponse(std::move(upgrade_response_), nullptr);
    co_await ds_->finished();
    auto down = ds_->takeTunnel();
    auto up = up_connection_->takeTunnel();
    if (!down || !up) {
      ds_->reset();
      up_connection_->close();
      co_return;
    }
    co_await relayTcp(std::move(down->transport), std::move(down->buffered),
                      std::move(up->transport), std::move(up->buffered));
  }

  // The route's timeout on a relayed response: both sides are reset when it passes first.
  asio::awaitable<void> awaitDeadline() {
    bool done = co_await ds_->finished(deadline_);
    if (done) co_return;
    bump(Stats::get().upstream_rq_timeout);
    if (auto upstream = up_stream_.lock()) upstream->reset();
    ds_->reset();
  }

  // The first try is out; the upstream stream calls responseArrived() when its answer is in.
  void awaitResponse() {
    waiting_ = true;
    forwarding_->stream().onResponse(weak_from_this());
  }

  void abandon() override {
    auto keep = shared_from_this();
    worker_.unpark(*this);
    ds_->onFinished(nullptr);
    stopWaiting();
  }

  void responseArrived() override {
    waiting_ = false;
    Forwarding& f = *forwarding_;
    advance(shared_from_this(), f.settle(f.stream().takeResponse()));
  }

  // Runs the forwarding steps that need no waiting, and hands over to the coroutine driver at
  // the first that does.
  static void advance(std::shared_ptr<Exchange> self, Forwarding::Next next);

  Forwarding& forwarding() { return *forwarding_; }
  Deadline deadline() const { return deadline_; }
  bool relayed() const { return relayed_; }
  DownstreamStream& downstream() { return *ds_; }
  Worker& worker() { return worker_; }

 private:
  Step answer(int status, const std::string& body) {
    sendLocalReply(*ds_, status, body);
    return Step::kAnswered;
  }

  void stopWaiting() {
    if (waiting_) forwarding_->stream().onResponse({});
    waiting_ = false;
  }

  void streamFinished() override {
    finished_ = true;
    if (relayed_) {
      resetUndrained();
    } else if (forwarding_ && !upgrading_) {
      // The client gave up before the response came: the upstream request goes too.
      stopWaiting();
      forwarding_->cancel();
    }
  }

  // The downstream is finished; a response body it did not take in full has nowhere to go.
  // An upstream that already sent all of it has nothing left to stop. Posted, since this may
  // run inside either codec's callbacks.
  void resetUndrained() {
    auto upstream = up_stream_.lock();
    if (!upstream) return;
    const BodyPipe& body = *upstream->response_body;
    if (body.ended() || body.aborted()) return;
    bump(Stats::get().upstream_rq_tx_reset);
    asio::post(worker_.context(), [upstream = std::move(upstream)] { upstream->reset(); });
  }

  Worker& worker_;
  std::shared_ptr<const ConnectionInfo> info_;
  std::shared_ptr<DownstreamStream> ds_;
  SnapshotPtr snap_;
  const Route* route_ = nullptr;
  std::optional<std::string> cors_origin_;
  FaultDecision fault_;
  std::optional<CircuitBreakers::Slot> request_slot_;
  RequestHead head_;
  Deadline deadline_ = kNoDeadline;
  std::optional<Forwarding> forwarding_;
  // What relay() keeps of the tries' outcome: the upstream stream that answers, and its count
  // in the load balancer until the end. The stream is held weakly: its codec lets it go when
  // the response has ended, while it is still in cache, rather than this exchange once the
  // response has been written. The connection is kept only for an upgrade.
  std::shared_ptr<UpstreamConnection> up_connection_;
  std::weak_ptr<UpstreamStream> up_stream_;
  LoadBalancer::ActiveRequest up_active_;
  ResponseHead upgrade_response_;  // a 101, kept from relay() for upgrade()
  bool waiting_ = false;           // on the upstream's response callback
  bool upgrading_ = false;         // a 101 to tunnel
  bool relayed_ = false;           // the upstream's response went to the downstream
  bool finished_ = false;          // the downstream stream is finished
};

// One exchange per request, allocated with its shared_ptr control block: glibc's per-thread
// cache serves blocks up to 1032 bytes, and a larger one goes through the arena's bins at
// several times the cost.
static_assert(sizeof(Exchange) + 16 <= 1032, "an exchange outgrew malloc's thread cache");

enum class Stage { kRoute, kDelay, kPrepare, kForward, kAnswered };

// The steps before forwarding, from `stage` (kRoute or kPrepare), up to the first wait:
// kAnswered when the proxy answered itself, kDelay when a fault delay comes before kPrepare,
// kForward when the tries are set up.
Stage routeAndPrepare(Exchange& x, Stage stage) {
  if (stage == Stage::kRoute) {
    Exchange::Step step = x.route();
    if (step == Exchange::Step::kAnswered) return Stage::kAnswered;
    if (step == Exchange::Step::kDelay) return Stage::kDelay;
  }
  return x.prepare() == Exchange::Step::kAnswered ? Stage::kAnswered : Stage::kForward;
}

// The coroutine driver: the same steps, from `stage`, with the waits the callback driver
// leaves to it.
asio::awaitable<void> drive(std::shared_ptr<Exchange> x, Stage stage, Forwarding::Next next) {
  if (stage == Stage::kRoute) stage = routeAndPrepare(*x, stage);
  if (stage == Stage::kDelay) {
    asio::steady_timer delay(co_await asio::this_coro::executor, x->faultDelay());
    co_await delay.async_wait(kNoThrow);
    stage = routeAndPrepare(*x, Stage::kPrepare);
  }
  if (stage == Stage::kAnswered) co_return;
  Forwarded f = co_await forwardRequest(x->forwarding(), next);
  bool upgrade = x->relay(std::move(f));
  if (upgrade) {
    co_await x->upgrade();
  } else if (x->relayed() && x->deadline() != kNoDeadline) {
    co_await x->awaitDeadline();
  }
}

void spawn(std::shared_ptr<Exchange> x, Stage stage,
           Forwarding::Next next = Forwarding::Next::kTry) {
  auto& ctx = x->worker().context();
  asio::co_spawn(ctx, drive(std::move(x), stage, next), asio::detached);
}

void Exchange::advance(std::shared_ptr<Exchange> self, Forwarding::Next next) {
  Forwarding& f = self->forwarding();
  if (next == Forwarding::Next::kTry) next = f.begin();
  if (next == Forwarding::Next::kResponse && self->deadline() == kNoDeadline &&
      f.tryDeadline() == kNoDeadline) {
    self->awaitResponse();
    return;
  }
  if (next != Forwarding::Next::kDone) {
    spawn(std::move(self), Stage::kForward, next);
    return;
  }
  if (self->relay(f.take())) {
    asio::co_spawn(
        self->worker().context(),
        [](std::shared_ptr<Exchange> x) -> asio::awaitable<void> { co_await x->upgrade(); }(self),
        asio::detached);
  }
}

}  // namespace

void startExchange(Worker& worker, const std::shared_ptr<const ConnectionInfo>& info,
                   std::shared_ptr<DownstreamStream> ds) {
  auto x = std::make_shared<Exchange>(worker, info, std::move(ds));
  x->holdUntilFinished();
  // The HTTP/1 codec calls its handler from inside llhttp with the message half parsed, and
  // answers written from there would interleave with its read loop; its requests start on
  // the next turn of the loop. HTTP/2 hands over a whole stream and takes submissions from
  // inside its callbacks.
  if (!x->downstream().isHttp2()) {
    spawn(std::move(x), Stage::kRoute);
    return;
  }
  Stage stage = routeAndPrepare(*x, Stage::kRoute);
  if (stage == Stage::kDelay)
    spawn(std::move(x), Stage::kDelay);
  else if (stage == Stage::kForward)
    Exchange::advance(std::move(x), Forwarding::Next::kTry);
}

}  // namespace meshnode::proxy
