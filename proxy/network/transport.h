#pragma once

#include <memory>
#include <string>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include "common/openssl.h"
#include "common/result.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// How much one read from a connection asks for.
inline constexpr size_t kReadChunk = 16384;

// The byte stream a codec or the TCP relay reads and writes: plain TCP, or TLS over TCP.
// One read and one write may be in flight at once (the HTTP/2 reader and writer run side by
// side); neither throws. Lives on the worker thread of its connection.
class Transport {
 public:
  virtual ~Transport() = default;

  // Some bytes, or an error (asio::error::eof when the peer finished sending).
  virtual asio::awaitable<size_t> readSome(asio::mutable_buffer buffer, std::error_code& ec) = 0;
  virtual asio::awaitable<void> writeAll(asio::const_buffer buffer, std::error_code& ec) = 0;
  // Writes what the socket takes at once, without waiting (0 on TLS, which always goes through
  // writeAll); would-block is not an error. Saves a trip through the event loop when the
  // kernel has room, which is nearly always.
  virtual size_t writeNow(asio::const_buffer, std::error_code& ec) {
    ec = {};
    return 0;
  }
  // Ends the sending direction: TLS sends close_notify first, then TCP half-closes.
  virtual asio::awaitable<void> shutdownSend() = 0;
  // The TLS session after its handshake; null on plain TCP.
  virtual SSL* ssl() const { return nullptr; }

  // Closes at once (no close_notify), waking any pending read or write.
  void close() {
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  bool isOpen() const { return socket_.is_open(); }
  asio::any_io_executor executor() { return socket_.get_executor(); }
  asio::ip::tcp::socket& socket() { return socket_; }

 protected:
  explicit Transport(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  asio::ip::tcp::socket socket_;
};

using TransportPtr = std::unique_ptr<Transport>;

TransportPtr makeTcpTransport(asio::ip::tcp::socket socket);

// TLS server side on an accepted socket: `initial` holds bytes already read from it (the
// ClientHello the protocol sniffer saw). `ssl` comes configured from its SSL_CTX. The
// handshake must finish within `timeout`.
asio::awaitable<Result<TransportPtr>> acceptTls(asio::ip::tcp::socket socket, std::string initial,
                                                ossl::SslPtr ssl, Millis timeout);
// TLS client side on a connected socket; `ssl` carries SNI, ALPN and the peer check.
asio::awaitable<Result<TransportPtr>> connectTls(asio::ip::tcp::socket socket, ossl::SslPtr ssl,
                                                 Millis timeout);

}  // namespace meshnode::proxy
