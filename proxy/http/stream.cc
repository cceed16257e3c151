#include "proxy/http/stream.h"

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

void UpstreamStream::onResponse(std::function<void()> fn) {
  if (head_ || error_) {
    if (fn) fn();
  } else
    on_response_ = std::move(fn);
}

void UpstreamStream::delivered() {
  if (!on_response_) {
    ready_.notify();
    return;
  }
  // `fn` may drop the last reference to this stream.
  auto fn = std::move(on_response_);
  on_response_ = nullptr;
  fn();
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
