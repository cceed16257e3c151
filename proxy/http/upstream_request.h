#pragma once

#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "proxy/http/exchange.h"
#include "proxy/http/stream.h"
#include "proxy/router/retry_policy.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/circuit_breaker.h"
#include "proxy/upstream/load_balancer.h"

namespace meshnode::proxy {

class Worker;

// How the tries of one request ended: a response head to relay, or an answer the proxy gives
// itself (status, body and headers) when none is worth relaying.
struct Forwarded {
  std::shared_ptr<UpstreamConnection> connection;
  std::shared_ptr<UpstreamStream> stream;
  std::optional<ResponseHead> response;
  int local_status = 0;
  std::string local_body;
  HeaderList local_headers;
  LoadBalancer::ActiveRequest active;  // the endpoint's count for least request, until the end
};

// Sends `head` (and the downstream body) to an endpoint of `cluster` and tries again as the
// route's retry policy allows: on another endpoint when there is one, after a jittered backoff,
// within the cluster's retry budget, and only while the request body can be replayed (none of
// it was consumed). Each outcome is reported to the outlier detector. A stream the upstream
// refused unprocessed is sent again whatever the policy says. Runs on the worker's thread.
//
// The tries are steps on this object rather than one coroutine, so that a request whose first
// try finds an idle connection and gets a final answer runs from start to response without a
// coroutine frame: the caller drives the steps with callbacks and hands over to
// forwardRequest() only when it has to wait on a connection, a backoff or a deadline.
class Forwarding {
 public:
  // All referenced objects outlive this one.
  Forwarding(Worker& worker, const Snapshot& snapshot, const Cluster& cluster, const Route& route,
             const ConnectionInfo& info, DownstreamStream& ds, const RequestHead& head, bool http2,
             Deadline deadline);
  ~Forwarding();
  Forwarding(const Forwarding&) = delete;
  Forwarding& operator=(const Forwarding&) = delete;

  enum class Next {
    kTry,       // pick an endpoint and start a try: begin()
    kConnect,   // the try needs a new connection: connect(), then connected()
    kResponse,  // the request is out: wait for stream() until tryDeadline(), then settle()
    kBackoff,   // wait until backoffUntil(), then afterBackoff()
    kDone,      // take() the outcome
  };

  Next begin();
  asio::awaitable<Result<std::shared_ptr<UpstreamConnection>>> connect();
  Next connected(Result<std::shared_ptr<UpstreamConnection>> connection);
  UpstreamStream& stream();
  Deadline tryDeadline() const;
  Next settle(std::optional<Result<ResponseHead>> response);
  Deadline backoffUntil() const { return std::min(backoff_until_, deadline_); }
  Next afterBackoff();
  Forwarded take();
  // The downstream ended before a response came: the try in flight is reset, and the steps
  // from here end without another.
  void cancel();

  // One try on one endpoint.
  struct Attempt {
    const Endpoint* endpoint = nullptr;  // null for an original-destination cluster
    asio::ip::tcp::endpoint target;
    LoadBalancer::ActiveRequest active;
    std::shared_ptr<UpstreamConnection> connection;
    std::shared_ptr<UpstreamStream> stream;
    std::optional<ResponseHead> response;
    std::optional<AttemptFailure> failure;
    Error error;
    bool overflow = false;         // a connection pool limit refused it
    bool deadline_passed = false;  // the route's timeout fired
    bool unprocessed = false;      // the upstream refused it before reading anything
  };

 private:
  Next start();
  Next finish(int status, std::string body, HeaderList headers = {});
  Next cancelled();

  Worker& worker_;
  const Snapshot& snapshot_;
  const Cluster& cluster_;
  const Route& route_;
  DownstreamStream& ds_;
  const RequestHead& head_;
  bool http2_;
  Deadline deadline_;
  const ConnectionInfo& info_;
  LoadBalancer::PickOptions pick_;
  uint32_t retries_ = 0;
  int unprocessed_ = 0;
  std::optional<CircuitBreakers::Slot> retry_slot_;
  std::optional<Attempt> attempt_;
  Deadline backoff_until_ = kNoDeadline;
  bool cancelled_ = false;
  Forwarded outcome_;
};

// Drives `forwarding` from `next` to kDone, suspending where a step has to wait.
asio::awaitable<Forwarded> forwardRequest(Forwarding& forwarding, Forwarding::Next next);

}  // namespace meshnode::proxy
