#include "proxy/http/http2/session.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/write.hpp>

#include "common/log.h"
#include "proxy/http/http2/headers.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy::http2 {

using namespace asio::experimental::awaitable_operators;

SessionIo::SessionIo(TransportPtr transport, std::string initial_bytes)
    : transport_(std::move(transport)),
      executor_(transport_->executor()),
      initial_bytes_(std::move(initial_bytes)),
      write_event_(executor_),
      read_event_(executor_),
      write_timer_(executor_) {}

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

void SessionIo::createSession(const nghttp2_session_callbacks* callbacks, bool server, void* user,
                              const Limits& limits,
                              std::initializer_list<nghttp2_settings_entry> settings) {
  nghttp2_option* raw_opt;
  nghttp2_option_new(&raw_opt);
  std::unique_ptr<nghttp2_option, OptionDeleter> opt(raw_opt);
  applyCommonOptions(opt.get(), limits);
  write_timeout_ = limits.stream_idle_timeout;
  nghttp2_session* s = nullptr;
  if (server)
    nghttp2_session_server_new2(&s, callbacks, user, opt.get());
  else
    nghttp2_session_client_new2(&s, callbacks, user, opt.get());
  session_.reset(s);
  nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, settings.begin(), settings.size());
  nghttp2_session_set_local_window_size(session_.get(), NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

void SessionIo::closeSocket() {
  if (transport_) transport_->close();
  write_event_.notify();
  read_event_.notify();
}

asio::awaitable<void> SessionIo::runIo(std::shared_ptr<void> keep_alive) {
  if (transport_->ssl()) {
    co_await (readLoop() && writeLoop());
  } else {
    if (startReading()) readNext(keep_alive);
    co_await writeLoop();
    while (!read_done_)
      co_await read_event_.wait();
  }
  closeSocket();
  io_closed_ = true;
  onIoClosed();
  (void)keep_alive;
}

namespace {
// How much is serialized before it is written.
constexpr size_t kSerializeAhead = 65536;
}  // namespace

void SessionIo::wantWrite(bool now) {
  if (now && !in_session_ && !write_pending_ && !send_failed_ && out_.size() < kSerializeAhead &&
      open()) {
    io_now_ = std::chrono::steady_clock::now();
    serialize();
  }
  write_event_.notify();
}

bool SessionIo::serialize() {
  in_session_ = true;
  while (out_.size() < kSerializeAhead) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
    if (n < 0) {
      LOG_DEBUG("http2 send: %s", nghttp2_strerror(static_cast<int>(n)));
      send_failed_ = true;
      break;
    }
    if (n == 0) break;
    out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  in_session_ = false;
  return !send_failed_;
}

bool SessionIo::feed(const char* data, size_t len) {
  io_now_ = std::chrono::steady_clock::now();
  in_session_ = true;
  ssize_t rv =
      nghttp2_session_mem_recv(session_.get(), reinterpret_cast<const uint8_t*>(data), len);
  in_session_ = false;
  write_event_.notify();
  if (rv >= 0) return true;
  LOG_DEBUG("http2 peer %s: %s", peer_.c_str(), nghttp2_strerror(static_cast<int>(rv)));
  bump(Stats::get().downstream_cx_protocol_error);
  if (rv == NGHTTP2_ERR_FLOODED) {
    // The peer is not reading what it is owed; nothing more can be sent to it.
    closeSocket();
  } else {
    // nghttp2 has queued GOAWAY for most errors; make sure one goes out, then stop.
    nghttp2_session_terminate_session(session_.get(), NGHTTP2_PROTOCOL_ERROR);
  }
  return false;
}

bool SessionIo::startReading() {
  std::error_code ec;
  peer_ = open() ? transport_->socket().remote_endpoint(ec).address().to_string() : "";
  if (initial_bytes_.empty()) return true;
  std::string first = std::move(initial_bytes_);
  if (feed(first.data(), first.size())) return true;
  readStopped();
  return false;
}

void SessionIo::readStopped() {
  read_done_ = true;
  write_event_.notify();
  read_event_.notify();
}

void SessionIo::readNext(std::shared_ptr<void> keep_alive) {
  if (!open() || !nghttp2_session_want_read(session_.get())) {
    readStopped();
    return;
  }
  reader_.read(transport_->socket(), *this, std::move(keep_alive));
}

void SessionIo::readDone(std::error_code ec, const char* data, size_t n,
                         std::shared_ptr<void> keep_alive) {
  if (ec || n == 0) {
    closeSocket();
    readStopped();
  } else if (!feed(data, n)) {
    readStopped();
  } else {
    readNext(std::move(keep_alive));
  }
}

asio::awaitable<void> SessionIo::readLoop() {
  if (!startReading()) co_return;
  char chunk[kReadChunk];
  std::error_code ec;
  while (open() && nghttp2_session_want_read(session_.get())) {
    size_t n = co_await transport_->readSome(asio::buffer(chunk), ec);
    if (ec || n == 0) {
      closeSocket();
      break;
    }
    if (!feed(chunk, n)) break;
  }
  readStopped();
}

asio::awaitable<void> SessionIo::writeLoop() {
  while (open()) {
    io_now_ = std::chrono::steady_clock::now();
    if (!serialize()) {
      closeSocket();
      co_return;
    }
    if (!out_.empty()) {
      std::error_code ec;
      size_t sent = transport_->writeNow(asio::buffer(out_), ec);
      if (ec) {
        closeSocket();
        co_return;
      }
      if (sent == out_.size()) {
        out_.clear();
        continue;
      }
      // A peer that stops reading for a whole write timeout is given up on. out_ stays as it
      // is meanwhile: nothing is serialized into it while the write holds it.
      write_pending_ = true;
      write_timer_.expires_after(write_timeout_);
      auto r = co_await (transport_->writeAll(asio::buffer(out_) + sent, ec) ||
                         write_timer_.async_wait(kNoThrow));
      write_pending_ = false;
      out_.clear();
      if (r.index() == 1 || ec) {
        closeSocket();
        co_return;
      }
      continue;
    }
    // After a fatal read error nghttp2 may still say it wants to read; the reader is gone.
    if (!nghttp2_session_want_write(session_.get()) &&
        (read_done_ || !nghttp2_session_want_read(session_.get())))
      break;
    co_await write_event_.wait();
  }
  closeSocket();
}

}  // namespace meshnode::proxy::http2
