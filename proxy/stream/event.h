#pragma once

#include <chrono>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace meshnode::proxy {

// Completion token for timer waits raced against other work: a cancelled wait returns its error
// code instead of throwing, so a request that beats its deadline costs no exception.
inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// When a wait gives up. Waits take the deadline itself rather than racing a second timer, so a
// request costs one timer instead of a parallel group of coroutines per wait.
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

// A wake-up flag a coroutine can wait on; notify() before wait() is not lost.
// Runs on one worker thread, like everything it wakes.
class Event {
 public:
  explicit Event(const asio::any_io_executor& ex) : timer_(ex) {}

  void notify() {
    set_ = true;
    timer_.cancel();
  }

  // Returns false when `deadline` passed before a notify.
  asio::awaitable<bool> waitUntil(Deadline deadline) {
    while (!set_) {
      if (deadline != kNoDeadline && std::chrono::steady_clock::now() >= deadline) co_return false;
      timer_.expires_at(deadline);
      std::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !set_) co_return false;
    }
    set_ = false;
    co_return true;
  }

  // Returns false when `timeout` passed before a notify.
  asio::awaitable<bool> wait(
      std::chrono::steady_clock::duration timeout = std::chrono::hours(24 * 365)) {
    return waitUntil(std::chrono::steady_clock::now() + timeout);
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

}  // namespace meshnode::proxy
