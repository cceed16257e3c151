#pragma once

#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include "proxy/http/exchange.h"
#include "proxy/http/stream.h"
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
asio::awaitable<Forwarded> forwardRequest(Worker& worker, const Snapshot& snapshot,
                                          const Cluster& cluster, const Route& route,
                                          const ConnectionInfo& info, DownstreamStream& ds,
                                          const RequestHead& head, bool http2, Deadline deadline);

}  // namespace meshnode::proxy
