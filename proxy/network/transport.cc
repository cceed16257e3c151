#include "proxy/network/transport.h"

#include <algorithm>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "proxy/stream/event.h"
#include "security/mtls_context.h"

namespace meshnode::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::ip::tcp::socket socket) : Transport(std::move(socket)) {}

  asio::awaitable<size_t> readSome(asio::mutable_buffer buffer, std::error_code& ec) override {
    co_return co_await socket_.async_read_some(buffer,
                                               asio::redirect_error(asio::use_awaitable, ec));
  }
  asio::awaitable<void> writeAll(asio::const_buffer buffer, std::error_code& ec) override {
    size_t sent = writeNow(buffer, ec);
    if (ec || sent == buffer.size()) co_return;
    co_await asio::async_write(socket_, buffer + sent,
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  size_t writeNow(asio::const_buffer buffer, std::error_code& ec) override {
    ec = {};
    if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
    if (ec) return 0;
    size_t n = socket_.write_some(buffer, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
    return ec ? 0 : n;
  }
  asio::awaitable<void> shutdownSend() override {
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    co_return;
  }
};

// TLS through OpenSSL memory BIOs: OpenSSL never touches the socket; ciphertext read from the
// socket is fed to `rbio_`, and what OpenSSL wants sent collects in `wbio_` until flush()
// writes it. Socket writes are serialized, since a read (TLS 1.3 key update, alerts) and a
// write may both produce ciphertext. Each SSL call finishes before the next begins (one
// thread), so the read and the write side can share the session.
class TlsTransport final : public Transport {
 public:
  TlsTransport(asio::ip::tcp::socket socket, ossl::SslPtr ssl, BIO* rbio, BIO* wbio)
      : Transport(std::move(socket)),
        ssl_(std::move(ssl)),
        rbio_(rbio),
        wbio_(wbio),
        write_done_(socket_.get_executor()) {}

  SSL* ssl() const override { return ssl_.get(); }

  // Feeds bytes the sniffer already took off the socket.
  void feed(const std::string& bytes) {
    if (!bytes.empty()) BIO_write(rbio_, bytes.data(), static_cast<int>(bytes.size()));
  }

  asio::awaitable<Status> handshake(std::string_view side) {
    for (;;) {
      ossl::clearErrors();
      int r = SSL_do_handshake(ssl_.get());
      int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), r);
      Error failure =
          err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL
              ? ossl::lastError(std::string("TLS handshake (") + std::string(side) + ")",
                                ErrorCode::kRefused, Side::kDownstream)
              : Error{};
      std::error_code ec;
      co_await flush(ec);  // the last flight, or the alert that explains a failure
      if (err == SSL_ERROR_NONE) co_return Status{};
      if (err == SSL_ERROR_WANT_READ && !ec) {
        if (co_await fill(ec) > 0) continue;
        co_return makeError(ErrorCode::kRefused, Side::kDownstream,
                            std::string("TLS handshake (") + std::string(side) +
                                "): peer closed the connection" +
                                (ec && ec != asio::error::eof ? ": " + ec.message() : ""));
      }
      std::string reason = security::peerRejectionReason(ssl_.get());
      if (!reason.empty()) failure.detail = "TLS handshake (" + std::string(side) + "): " + reason;
      if (failure.detail.empty())
        failure = makeError(ErrorCode::kRefused, Side::kDownstream,
                            std::string("TLS handshake (") + std::string(side) + ") failed");
      co_return failure;
    }
  }

  asio::awaitable<size_t> readSome(asio::mutable_buffer buffer, std::error_code& ec) override {
    for (;;) {
      ossl::clearErrors();
      size_t n = 0;
      int r = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
      if (r == 1) {
        if (BIO_ctrl_pending(wbio_) > 0) co_await flush(ec);
        co_return n;
      }
      int err = SSL_get_error(ssl_.get(), r);
      if (err == SSL_ERROR_WANT_READ) {
        co_await flush(ec);
        if (ec) co_return 0;
        if (co_await fill(ec) == 0) {
          if (!ec) ec = asio::error::eof;
          co_return 0;
        }
        continue;
      }
      ossl::clearErrors();
      ec = err == SSL_ERROR_ZERO_RETURN ? std::error_code(asio::error::eof)
                                        : std::make_error_code(std::errc::protocol_error);
      co_return 0;
    }
  }

  asio::awaitable<void> writeAll(asio::const_buffer buffer, std::error_code& ec) override {
    const char* p = static_cast<const char*>(buffer.data());
    size_t left = buffer.size();
    while (left > 0) {
      ossl::clearErrors();
      size_t written = 0;
      if (SSL_write_ex(ssl_.get(), p, std::min<size_t>(left, kRecordBytes), &written) != 1) {
        ossl::clearErrors();
        ec = std::make_error_code(std::errc::protocol_error);
        co_return;
      }
      p += written;
      left -= written;
      co_await flush(ec);
      if (ec) co_return;
    }
  }

  asio::awaitable<void> shutdownSend() override {
    if (!sent_close_notify_) {
      sent_close_notify_ = true;
      ossl::clearErrors();
      SSL_shutdown(ssl_.get());
      ossl::clearErrors();
      std::error_code ec;
      co_await flush(ec);
    }
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  }

 private:
  static constexpr size_t kRecordBytes = 16384;

  // Reads ciphertext from the socket into the read BIO; 0 at end of stream or on error.
  asio::awaitable<size_t> fill(std::error_code& ec) {
    char chunk[kRecordBytes];
    size_t n = co_await socket_.async_read_some(asio::buffer(chunk),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) co_return 0;
    BIO_write(rbio_, chunk, static_cast<int>(n));
    co_return n;
  }

  // Writes everything OpenSSL produced, in order, one socket write at a time.
  asio::awaitable<void> flush(std::error_code& ec) {
    for (;;) {
      if (writing_) {
        co_await write_done_.wait();
        continue;
      }
      size_t pending = BIO_ctrl_pending(wbio_);
      if (pending == 0) co_return;
      std::string out(pending, '\0');
      int got = BIO_read(wbio_, out.data(), static_cast<int>(pending));
      if (got <= 0) co_return;
      out.resize(static_cast<size_t>(got));
      writing_ = true;
      co_await asio::async_write(socket_, asio::buffer(out),
                                 asio::redirect_error(asio::use_awaitable, ec));
      writing_ = false;
      write_done_.notify();
      if (ec) co_return;
    }
  }

  ossl::SslPtr ssl_;
  BIO* rbio_;  // owned by ssl_
  BIO* wbio_;  // owned by ssl_
  Event write_done_;
  bool writing_ = false;
  bool sent_close_notify_ = false;
};

Result<std::unique_ptr<TlsTransport>> makeTls(asio::ip::tcp::socket socket, ossl::SslPtr ssl) {
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    return ossl::lastError("TLS: memory BIO");
  }
  // An empty read BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(rbio, -1);
  SSL_set_bio(ssl.get(), rbio, wbio);
  return std::make_unique<TlsTransport>(std::move(socket), std::move(ssl), rbio, wbio);
}

asio::awaitable<Result<TransportPtr>> handshakeWithin(std::unique_ptr<TlsTransport> tls,
                                                      Millis timeout, std::string_view side) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  auto r = co_await (tls->handshake(side) || deadline.async_wait(kNoThrow));
  if (r.index() == 1)
    co_return makeError(ErrorCode::kTimeout, Side::kDownstream,
                        "TLS handshake (" + std::string(side) + "): timed out after " +
                            std::to_string(timeout.count()) + " ms");
  if (auto st = std::get<0>(r); !st) co_return st.error();
  co_return TransportPtr(std::move(tls));
}

}  // namespace

TransportPtr makeTcpTransport(asio::ip::tcp::socket socket) {
  return std::make_unique<TcpTransport>(std::move(socket));
}

asio::awaitable<Result<TransportPtr>> acceptTls(asio::ip::tcp::socket socket, std::string initial,
                                                ossl::SslPtr ssl, Millis timeout) {
  SSL_set_accept_state(ssl.get());
  auto tls = makeTls(std::move(socket), std::move(ssl));
  if (!tls) co_return tls.error();
  (*tls)->feed(initial);
  co_return co_await handshakeWithin(std::move(*tls), timeout, "server");
}

asio::awaitable<Result<TransportPtr>> connectTls(asio::ip::tcp::socket socket, ossl::SslPtr ssl,
                                                 Millis timeout) {
  SSL_set_connect_state(ssl.get());
  auto tls = makeTls(std::move(socket), std::move(ssl));
  if (!tls) co_return tls.error();
  auto r = co_await handshakeWithin(std::move(*tls), timeout, "client");
  if (!r) {
    Error e = r.error();
    e.side = Side::kUpstream;
    co_return e;
  }
  co_return r;
}

}  // namespace meshnode::proxy
