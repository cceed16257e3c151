#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "common/result.h"
#include "proxy/http/message.h"
#include "proxy/network/transport.h"
#include "proxy/stream/body_pipe.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy {

// An HTTP/1.1 connection handed over after a 101 response (WebSocket and other upgrades): the
// transport and the bytes already read past the 101 exchange.
struct Tunnel {
  TransportPtr transport;
  std::string buffered;
};

// Told once that a stream it waits on has moved on. The streams hold listeners as plain
// pointers rather than std::function, so that registering one costs no allocation.
class FinishListener {
 public:
  virtual void streamFinished() = 0;

 protected:
  ~FinishListener() = default;
};
class ResponseListener {
 public:
  virtual void responseArrived() = 0;

 protected:
  ~ResponseListener() = default;
};

// One request as a downstream codec (HTTP/1 or HTTP/2 server side) presents it to the router.
// Lives on the worker thread of its connection.
class DownstreamStream {
 public:
  virtual ~DownstreamStream() = default;

  // Its header list moves to the upstream request once the request is routed.
  RequestHead request;
  // Produced by the codec; null when the request has no body.
  std::shared_ptr<BodyPipe> request_body;

  // Starts the response; the codec consumes `body` (null: no body) until it ends.
  virtual void sendResponse(ResponseHead head, std::shared_ptr<BodyPipe> body) = 0;
  // Abandons the stream: RST_STREAM on HTTP/2, closing the connection on HTTP/1.
  virtual void reset() = 0;
  virtual bool responseStarted() const = 0;
  // True when the response was written in full or the stream was reset; false when `deadline`
  // passed first.
  virtual asio::awaitable<bool> finished(Deadline deadline = kNoDeadline) = 0;
  // The same without a coroutine: `listener` is told once, when finished() would return true
  // (at once when it already would). The stream owns the listener until then; null drops it.
  virtual void onFinished(std::shared_ptr<FinishListener> listener) = 0;
  virtual bool isHttp2() const = 0;
  // After an upgrade request was answered 101: the downstream connection, once.
  virtual std::optional<Tunnel> takeTunnel() { return std::nullopt; }
};

// The upstream half of one exchange, produced by an upstream codec.
class UpstreamStream {
 public:
  explicit UpstreamStream(const asio::any_io_executor& ex) : ready_(ex) {}
  virtual ~UpstreamStream() = default;

  std::shared_ptr<BodyPipe> response_body;  // produced by the codec

  // The response head, or why none came (reset, protocol error, connection closed); nullopt
  // when `deadline` passed first. The head is handed over: ask once.
  asio::awaitable<std::optional<Result<ResponseHead>>> response(Deadline deadline);
  // The same without a coroutine: `listener` is told once, when the head or an error is there
  // (at once when it already is), and may then take it with takeResponse(). The stream holds
  // it weakly, and may be gone when it returns. Null stops listening.
  void onResponse(std::weak_ptr<ResponseListener> listener);
  Result<ResponseHead> takeResponse();
  virtual void reset() = 0;

 protected:
  // The codec's side: the head arrived, or the stream ended without one (the first word counts).
  void deliverHead(ResponseHead head);
  void deliverError(Error error);
  bool hasHead() const { return head_.has_value(); }

 private:
  void delivered();

  Event ready_;
  std::weak_ptr<ResponseListener> listener_;
  std::optional<ResponseHead> head_;
  std::optional<Error> error_;
};

// A connection to one upstream endpoint, pooled per worker.
class UpstreamConnection {
 public:
  virtual ~UpstreamConnection() = default;

  // Sends the request head and then the body from `body` (null: no body).
  virtual std::shared_ptr<UpstreamStream> startRequest(const RequestHead& head,
                                                       std::shared_ptr<BodyPipe> body) = 0;
  // True when a new request may be started now.
  virtual bool available() const = 0;
  // Called when the connection finished a request and may take the next (HTTP/1.1); the pool
  // uses it to find a free connection without looking at each.
  std::function<void()> on_idle;
  virtual bool closed() const = 0;
  virtual bool isHttp2() const = 0;
  virtual void close() = 0;
  // After the upstream answered 101 to an upgrade: the connection, once.
  virtual std::optional<Tunnel> takeTunnel() { return std::nullopt; }
};

}  // namespace meshnode::proxy
