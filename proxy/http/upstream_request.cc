#include "proxy/http/upstream_request.h"

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

}  // namespace

namespace {

using Attempt = Forwarding::Attempt;

// Why no connection could be had for an attempt.
void connectionFailed(Attempt& a, const Error& error) {
  a.error = error;
  if (error.code == ErrorCode::kLimit)
    a.overflow = true;
  else
    a.failure = AttemptFailure::kConnectFailure;
}

// What the upstream answered an attempt: a head, an error, or nothing before `until` (null).
void settleAttempt(Attempt& a, std::optional<Result<ResponseHead>>& r, Deadline deadline) {
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

// Drops what an attempt received before the request is tried again.
void discard(Attempt& a) {
  if (a.stream) {
    if (a.stream->response_body) a.stream->response_body->detach();
    a.stream->reset();
  }
}

}  // namespace

Forwarding::Forwarding(Worker& worker, const Snapshot& snapshot, const Cluster& cluster,
                       const Route& route, const ConnectionInfo& info, DownstreamStream& ds,
                       const RequestHead& head, bool http2, Deadline deadline)
    : worker_(worker),
      snapshot_(snapshot),
      cluster_(cluster),
      route_(route),
      ds_(ds),
      head_(head),
      http2_(http2),
      deadline_(deadline),
      info_(info) {
  if (cluster.consistent_hash)
    pick_.hash = requestHashKey(*cluster.consistent_hash, head,
                                info.downstream_remote.address().to_string());
}

Forwarding::~Forwarding() = default;

Forwarding::Next Forwarding::finish(int status, std::string body, HeaderList headers) {
  outcome_.local_status = status;
  outcome_.local_body = std::move(body);
  outcome_.local_headers = std::move(headers);
  return Next::kDone;
}

void Forwarding::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  if (attempt_ && attempt_->stream && !attempt_->response) {
    bump(Stats::get().upstream_rq_tx_reset);
    attempt_->stream->reset();
  }
}

Forwarding::Next Forwarding::cancelled() {
  return finish(503, "the downstream went away");
}

Forwarding::Next Forwarding::begin() {
  if (cancelled_) return cancelled();
  attempt_.emplace();
  Attempt& a = *attempt_;
  if (cluster_.original_dst) {
    if (!info_.original_dst) return finish(503, "no healthy upstream");
    a.target = *info_.original_dst;
  } else {
    pick_.now = Clock::now();
    a.endpoint = worker_.lb().pick(cluster_, pick_);
    if (!a.endpoint) return finish(503, "no healthy upstream");
    a.target = asio::ip::tcp::endpoint(a.endpoint->ip, a.endpoint->port);
    a.active = worker_.lb().track(cluster_, *a.endpoint);
  }
  a.connection = worker_.pool().takeIdle(cluster_, a.target, http2_);
  if (!a.connection) return Next::kConnect;
  return start();
}

asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> Forwarding::connect() {
  return worker_.pool().acquire(cluster_, attempt_->target, http2_, snapshot_.limits);
}

Forwarding::Next Forwarding::connected(Result<std::shared_ptr<UpstreamConnection>> connection) {
  if (cancelled_) return cancelled();
  if (connection) {
    attempt_->connection = std::move(*connection);
    return start();
  }
  connectionFailed(*attempt_, connection.error());
  return settle(std::nullopt);
}

Forwarding::Next Forwarding::start() {
  attempt_->stream = attempt_->connection->startRequest(head_, ds_.request_body);
  return Next::kResponse;
}

UpstreamStream& Forwarding::stream() {
  return *attempt_->stream;
}

Deadline Forwarding::tryDeadline() const {
  const RetryPolicy* policy = route_.retries ? &*route_.retries : nullptr;
  if (policy && policy->per_try_timeout.count() > 0)
    return std::min(deadline_, Clock::now() + policy->per_try_timeout);
  return deadline_;
}

// With no stream, the try never got a connection and `response` is ignored.
Forwarding::Next Forwarding::settle(std::optional<Result<ResponseHead>> response) {
  // A try the downstream cancelled says nothing about the upstream.
  if (cancelled_) return cancelled();
  Attempt& a = *attempt_;
  if (a.stream) settleAttempt(a, response, deadline_);
  auto& lb = worker_.lb();
  if (a.endpoint && !a.overflow && cluster_.outlier_detection)
    lb.outliers().record(cluster_, *a.endpoint, outlierStatus(a), Clock::now());

  if (a.overflow)
    return finish(503, "upstream overflow: " + a.error.detail, {{kOverloadedHeader, "true"}});
  if (a.deadline_passed) {
    bump(Stats::get().upstream_rq_timeout);
    return finish(504, "upstream request timeout");
  }
  // Asked only when a try could be repeated: the downstream stream is out of cache by now.
  auto replayable = [this] {
    return !ds_.request_body || !(ds_.request_body->touched() || ds_.request_body->detached());
  };
  if (a.unprocessed && replayable() && ++unprocessed_ < kUnprocessedRetries) return Next::kTry;

  const RetryPolicy* policy = route_.retries ? &*route_.retries : nullptr;
  bool wanted =
      policy && retries_ < policy->attempts &&
      (a.response ? retryOnResponse(*policy, *a.response) : retryOnFailure(*policy, *a.failure)) &&
      replayable();
  if (wanted) {
    retry_slot_.reset();
    retry_slot_ = worker_.pool().breakers().tryRetry(cluster_);
    if (!retry_slot_) {
      bump(Stats::get().upstream_rq_retry_overflow);
      wanted = false;
    }
  }
  if (wanted) {
    ++retries_;
    bump(Stats::get().upstream_rq_retry);
    LOG_DEBUG("retry %u of %s: %s", retries_, route_.name.c_str(),
              a.response ? ("status " + std::to_string(a.response->status)).c_str()
                         : a.error.describe().c_str());
    discard(a);
    if (a.endpoint) pick_.avoid.push_back(a.endpoint);
    backoff_until_ = Clock::now() + retryBackoff(retries_, lb.rng());
    return Next::kBackoff;
  }

  if (a.response) {
    outcome_.connection = std::move(a.connection);
    outcome_.stream = std::move(a.stream);
    outcome_.response = std::move(a.response);
    outcome_.active = std::move(a.active);
    return Next::kDone;
  }
  LOG_DEBUG("%s", a.error.describe().c_str());
  if (a.failure == AttemptFailure::kConnectFailure)
    return finish(503, "upstream connect error: " + a.error.detail);
  if (a.failure == AttemptFailure::kPerTryTimeout) {
    bump(Stats::get().upstream_rq_timeout);
    return finish(504, "upstream request timeout");
  }
  return finish(503, "upstream reset: " + a.error.detail);
}

Forwarding::Next Forwarding::afterBackoff() {
  if (cancelled_) return cancelled();
  if (backoff_until_ < deadline_) return Next::kTry;
  bump(Stats::get().upstream_rq_timeout);
  return finish(504, "upstream request timeout");
}

Forwarded Forwarding::take() {
  attempt_.reset();
  return std::move(outcome_);
}

asio::awaitable<Forwarded> forwardRequest(Forwarding& f, Forwarding::Next next) {
  auto ex = co_await asio::this_coro::executor;
  // GCC 12 miscompiles a co_await inside a switch or a condition in a loop; keep them
  // statements in an if chain.
  while (next != Forwarding::Next::kDone) {
    if (next == Forwarding::Next::kTry) {
      next = f.begin();
    } else if (next == Forwarding::Next::kConnect) {
      auto connection = co_await f.connect();
      next = f.connected(std::move(connection));
    } else if (next == Forwarding::Next::kResponse) {
      auto response = co_await f.stream().response(f.tryDeadline());
      next = f.settle(std::move(response));
    } else {
      asio::steady_timer backoff(ex, f.backoffUntil());
      co_await backoff.async_wait(kNoThrow);
      next = f.afterBackoff();
    }
  }
  co_return f.take();
}

}  // namespace meshnode::proxy
