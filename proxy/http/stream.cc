#include "proxy/http/stream.h"

#include <utility>

namespace meshnode::proxy {

asio::awaitable<std::optional<Result<ResponseHead>>> UpstreamStream::response(Deadline deadline) {
  // GCC 12 miscompiles a co_await inside an `if` condition in a loop here; keep it a statement.
  while (!head_ && !error_) {
    bool woken = co_await ready_.waitUntil(deadline);
    if (!woken) co_return std::nullopt;
  }
  co_return takeResponse();
}

Result<ResponseHead> UpstreamStream::takeResponse() {
  if (head_) return std::move(*head_);  // hasHead() stays true: the optional stays engaged
  return *error_;
}

void UpstreamStream::onResponse(std::weak_ptr<ResponseListener> listener) {
  listener_ = std::move(listener);
  if (!listener_.expired() && (head_ || error_)) delivered();
}

void UpstreamStream::delivered() {
  // A coroutine waits through `ready_`, a listener through the callback; never both.
  auto listener = std::exchange(listener_, {}).lock();
  if (!listener) {
    ready_.notify();
    return;
  }
  // The listener may drop the last reference to this stream.
  listener->responseArrived();
}

void UpstreamStream::deliverHead(ResponseHead head) {
  head_ = std::move(head);
  delivered();
}

void UpstreamStream::deliverError(Error error) {
  if (head_ || error_) return;
  error_ = std::move(error);
  delivered();
}

}  // namespace meshnode::proxy
