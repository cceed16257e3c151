#include "proxy/http/http2/session.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/write.hpp>

#include "common/log.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy::http2 {

using namespace asio::experimental::awaitable_operators;

SessionIo::SessionIo(asio::ip::tcp::socket socket, std::string initial_bytes)
    : socket_(std::move(socket)),
      initial_bytes_(std::move(initial_bytes)),
      write_event_(socket_.get_executor()),
      read_event_(socket_.get_executor()) {}

void applyCommonOptions(nghttp2_option* option, const Limits& limits) {
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_send_header_block_length(option, limits.max_header_bytes * 2);
  // Bounds the peer's HPACK table and pending control frames (SETTINGS/PING flood).
  nghttp2_option_set_max_deflate_dynamic_table_size(option, 4096);
  nghttp2_option_set_max_outbound_ack(option, 1000);
  nghttp2_option_set_max_settings(option, 32);
  // Rapid reset (CVE-2023-44487) and CONTINUATION flood: nghttp2's own limits, made explicit.
  nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33);
  nghttp2_option_set_max_continuations(option, 8);
}

void SessionIo::closeSocket() {
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  write_event_.notify();
  read_event_.notify();
}

asio::awaitable<void> SessionIo::runIo(std::shared_ptr<void> keep_alive) {
  co_await (readLoop() && writeLoop());
  closeSocket();
  io_closed_ = true;
  onIoClosed();
  (void)keep_alive;
}

asio::awaitable<void> SessionIo::readLoop() {
  if (!initial_bytes_.empty()) {
    ssize_t rv = nghttp2_session_mem_recv(session_.get(),
                                          reinterpret_cast<const uint8_t*>(initial_bytes_.data()),
                                          initial_bytes_.size());
    initial_bytes_.clear();
    if (rv < 0) {
      LOG_DEBUG("http2: %s", nghttp2_strerror(static_cast<int>(rv)));
      bump(Stats::get().downstream_cx_protocol_error);
      write_event_.notify();
      co_return;
    }
    write_event_.notify();
  }
  char chunk[16384];
  while (socket_.is_open()) {
    if (!nghttp2_session_want_read(session_.get())) break;
    if (readPaused()) {
      co_await read_event_.wait();
      continue;
    }
    std::error_code ec;
    size_t n = co_await socket_.async_read_some(asio::buffer(chunk),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) {
      closeSocket();
      co_return;
    }
    ssize_t rv =
        nghttp2_session_mem_recv(session_.get(), reinterpret_cast<const uint8_t*>(chunk), n);
    if (rv < 0) {
      // nghttp2 has queued GOAWAY with the reason; the writer flushes it before closing.
      LOG_DEBUG("http2: %s", nghttp2_strerror(static_cast<int>(rv)));
      bump(Stats::get().downstream_cx_protocol_error);
      write_event_.notify();
      break;
    }
    write_event_.notify();
  }
  write_event_.notify();
  // Let the writer flush a final GOAWAY, then stop it.
  read_event_.notify();
}

asio::awaitable<void> SessionIo::writeLoop() {
  std::string out;
  while (socket_.is_open()) {
    out.clear();
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
      if (n < 0) {
        LOG_DEBUG("http2 send: %s", nghttp2_strerror(static_cast<int>(n)));
        closeSocket();
        co_return;
      }
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      if (out.size() >= 65536) break;
    }
    if (!out.empty()) {
      std::error_code ec;
      co_await asio::async_write(socket_, asio::buffer(out),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        closeSocket();
        co_return;
      }
      continue;
    }
    if (!nghttp2_session_want_read(session_.get()) && !nghttp2_session_want_write(session_.get()))
      break;
    co_await write_event_.wait();
  }
  closeSocket();
}

}  // namespace meshnode::proxy::http2
