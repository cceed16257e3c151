#include "proxy/http/upstream_request.h"

#include <variant>

#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "common/log.h"
#include "proxy/router/retry_policy.h"
#include "proxy/server/worker.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/event.h"
#include "proxy/upstream/hash_ring.h"

namespace meshnode::proxy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kUnprocessedRetries = 3;

// One try on one endpoint.
struct Attempt {
  std::shared_ptr<UpstreamConnection> connection;
  std::shared_ptr<UpstreamStream> stream;
  std::optional<ResponseHead> response;
  std::optional<AttemptFailure> failure;
  Error error;
  bool overflow = false;         // a connection pool limit refused it
  bool deadline_passed = false;  // the route's timeout fired
  bool unprocessed = false;      // the upstream refused it before reading anything
};

// Why no connection could be had for an attempt.
void connectionFailed(Attempt& a, const Error& error) {
  a.error = error;
  if (error.code == ErrorCode::kLimit)
    a.overflow = true;
  else
    a.failure = AttemptFailure::kConnectFailure;
}

// What the upstream answered an attempt: a head, an error, or nothing before `until` (null).
void settle(Attempt& a, std::optional<Result<ResponseHead>>& r, Deadline deadline) {
  if (!r) {
    a.stream->reset();
    a.deadline_passed = Clock::now() >= deadline;
    a.failure = AttemptFailure::kPerTryTimeout;
    a.error = makeError(ErrorCode::kTimeout, Side::kUpstream, "upstream per-try timeout");
    return;
  }
  if (r->ok()) {
    a.response = std::move(r->value());
    return;
  }
  a.error = r->error();
  a.unprocessed = a.error.retryable;
  a.failure =
      a.error.code == ErrorCode::kRefused ? AttemptFailure::kRefusedStream : AttemptFailure::kReset;
}

// The status the outlier detector books for an attempt: a timeout counts as 504, as in Envoy.
int outlierStatus(const Attempt& a) {
  if (a.response) return a.response->status;
  return a.failure == AttemptFailure::kPerTryTimeout ? 504 : 0;
}

Forwarded localAnswer(int status, std::string body, HeaderList headers = {}) {
  Forwarded f;
  f.local_status = status;
  f.local_body = std::move(body);
  f.local_headers = std::move(headers);
  return f;
}

// Drops what an attempt received before the request is tried again.
void discard(Attempt& a) {
  if (a.stream) {
    if (a.stream->response_body) a.stream->response_body->detach();
    a.stream->reset();
  }
}

}  // namespace

asio::awaitable<Forwarded> forwardRequest(Worker& worker, const Snapshot& snapshot,
                                          const Cluster& cluster, const Route& route,
                                          const ConnectionInfo& info, DownstreamStream& ds,
                                          const RequestHead& head, bool http2, Deadline deadline) {
  auto& lb = worker.lb();
  LoadBalancer::PickOptions pick;
  if (cluster.consistent_hash)
    pick.hash = requestHashKey(*cluster.consistent_hash, head,
                               info.downstream_remote.address().to_string());
  const RetryPolicy* policy = route.retries ? &*route.retries : nullptr;
  uint32_t retries = 0;
  int unprocessed = 0;
  std::optional<CircuitBreakers::Slot> retry_slot;
  auto ex = co_await asio::this_coro::executor;

  for (;;) {
    const Endpoint* endpoint = nullptr;
    std::optional<asio::ip::tcp::endpoint> target;
    if (cluster.original_dst) {
      target = info.original_dst;
    } else {
      pick.now = Clock::now();
      endpoint = lb.pick(cluster, pick);
      if (endpoint) target = asio::ip::tcp::endpoint(endpoint->ip, endpoint->port);
    }
    if (!target) co_return localAnswer(503, "no healthy upstream");

    LoadBalancer::ActiveRequest active;
    if (endpoint) active = lb.track(cluster, *endpoint);
    // One try on one endpoint, written out here rather than as a coroutine of its own: a
    // request then costs one coroutine frame less.
    Attempt a;
    a.connection = worker.pool().takeIdle(cluster, *target, http2);
    if (!a.connection) {
      auto conn = co_await worker.pool().acquire(cluster, *target, http2, snapshot.limits);
      if (conn)
        a.connection = *conn;
      else
        connectionFailed(a, conn.error());
    }
    if (a.connection) {
      a.stream = a.connection->startRequest(head, ds.request_body);
      Deadline until = deadline;
      if (policy && policy->per_try_timeout.count() > 0)
        until = std::min(until, Clock::now() + policy->per_try_timeout);
      auto r = co_await a.stream->response(until);
      settle(a, r, deadline);
    }
    if (endpoint && !a.overflow && cluster.outlier_detection)
      lb.outliers().record(cluster, *endpoint, outlierStatus(a), Clock::now());

    if (a.overflow)
      co_return localAnswer(503, "upstream overflow: " + a.error.detail,
                            {{kOverloadedHeader, "true"}});
    if (a.deadline_passed) {
      bump(Stats::get().upstream_rq_timeout);
      co_return localAnswer(504, "upstream request timeout");
    }
    bool replayable =
        !ds.request_body || !(ds.request_body->touched() || ds.request_body->detached());
    if (a.unprocessed && replayable && ++unprocessed < kUnprocessedRetries) continue;

    bool wanted =
        policy && retries < policy->attempts && replayable &&
        (a.response ? retryOnResponse(*policy, *a.response) : retryOnFailure(*policy, *a.failure));
    if (wanted) {
      retry_slot.reset();
      retry_slot = worker.pool().breakers().tryRetry(cluster);
      if (!retry_slot) {
        bump(Stats::get().upstream_rq_retry_overflow);
        wanted = false;
      }
    }
    if (wanted) {
      ++retries;
      bump(Stats::get().upstream_rq_retry);
      LOG_DEBUG("retry %u of %s: %s", retries, route.name.c_str(),
                a.response ? ("status " + std::to_string(a.response->status)).c_str()
                           : a.error.describe().c_str());
      discard(a);
      if (endpoint) pick.avoid.push_back(endpoint);
      auto resume = Clock::now() + retryBackoff(retries, lb.rng());
      asio::steady_timer backoff(ex, std::min(resume, deadline));
      co_await backoff.async_wait(kNoThrow);
      if (resume >= deadline) {
        bump(Stats::get().upstream_rq_timeout);
        co_return localAnswer(504, "upstream request timeout");
      }
      continue;
    }

    if (a.response) {
      Forwarded f;
      f.connection = std::move(a.connection);
      f.stream = std::move(a.stream);
      f.response = std::move(a.response);
      f.active = std::move(active);
      co_return f;
    }
    LOG_DEBUG("%s", a.error.describe().c_str());
    if (a.failure == AttemptFailure::kConnectFailure)
      co_return localAnswer(503, "upstream connect error: " + a.error.detail);
    if (a.failure == AttemptFailure::kPerTryTimeout) {
      bump(Stats::get().upstream_rq_timeout);
      co_return localAnswer(504, "upstream request timeout");
    }
    co_return localAnswer(503, "upstream reset: " + a.error.detail);
  }
}

}  // namespace meshnode::proxy
