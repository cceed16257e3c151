#include "proxy/http/stream.h"

namespace meshnode::proxy {

asio::awaitable<std::optional<Result<ResponseHead>>> UpstreamStream::response(Deadline deadline) {
  // GCC 12 miscompiles a co_await inside an `if` condition in a loop here; keep it a statement.
  while (!head_ && !error_) {
    bool woken = co_await ready_.waitUntil(deadline);
    if (!woken) co_return std::nullopt;
  }
  std::optional<Result<ResponseHead>> out;
  if (head_)
    out.emplace(std::move(*head_));  // hasHead() stays true: the optional stays engaged
  else
    out.emplace(*error_);
  co_return out;
}

void UpstreamStream::deliverHead(ResponseHead head) {
  head_ = std::move(head);
  ready_.notify();
}

void UpstreamStream::deliverError(Error error) {
  if (head_ || error_) return;
  error_ = std::move(error);
  ready_.notify();
}

}  // namespace meshnode::proxy
