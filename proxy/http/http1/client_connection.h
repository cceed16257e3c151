#pragma once

#include <memory>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <llhttp.h>

#include "proxy/http/stream.h"
#include "proxy/network/tcp_reader.h"
#include "proxy/network/transport.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy::http1 {

// An HTTP/1.1 connection to one upstream endpoint: one request at a time, kept alive and
// reused by the pool while the upstream allows it. Runs on its worker thread.
class ClientConnection : public UpstreamConnection,
                         public std::enable_shared_from_this<ClientConnection>,
                         private ReadListener {
 public:
  ClientConnection(TransportPtr transport, const Cluster& cluster, const Limits& limits);
  ~ClientConnection() override;

  // Starts the reader; call once after construction.
  void start();

  std::shared_ptr<UpstreamStream> startRequest(const RequestHead& head,
                                               std::shared_ptr<BodyPipe> body) override;
  bool available() const override { return !closed_ && !current_ && keep_alive_; }
  bool closed() const override { return closed_; }
  bool isHttp2() const override { return false; }
  void close() override;
  std::optional<Tunnel> takeTunnel() override;

 private:
  class Stream;

  static const llhttp_settings_t& parserSettings();
  static int onStatus(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);

  // Plain TCP reads with a completion handler, one read in flight at a time: a response is
  // mostly one read, and a handler is cheaper to run than a coroutine to resume. TLS reads
  // go through its transport's coroutine (readLoop). Both hand the bytes to onBytes, which
  // says whether to read on.
  void readNext(std::shared_ptr<void> keep_alive = nullptr);
  void readDone(std::error_code ec, const char* data, size_t n,
                std::shared_ptr<void> keep_alive) override;
  asio::awaitable<void> readLoop();
  bool onBytes(const char* data, size_t n, std::error_code ec);
  // The response pipe was drained below its mark: reading may go on.
  void bodyConsumed();

  asio::awaitable<void> writeRequest(std::shared_ptr<Stream> stream, std::string head,
                                     std::shared_ptr<BodyPipe> body, int framing);
  void failCurrent(const std::string& why);
  void armIdleSweep();
  // The request in flight is done: the connection goes back to the pool, or closes.
  void becameIdle();

  TransportPtr transport_;  // null once handed over as a Tunnel
  asio::any_io_executor executor_;
  bool open() const { return transport_ && transport_->isOpen(); }
  Millis idle_timeout_;
  uint32_t max_requests_;
  uint32_t requests_ = 0;
  Limits limits_;
  llhttp_t parser_{};
  ResponseHead head_;
  std::string field_, value_;
  std::string head_out_;  // the request head being written, reused across requests
  size_t header_bytes_ = 0;
  std::shared_ptr<Stream> current_;
  Event wake_;                // the TLS reader waits on it while the response pipe is full
  bool read_paused_ = false;  // the TCP reader stopped while the response pipe is full
  TcpReader reader_;          // plain TCP only
  bool tcp_reads_ = false;    // reads go through reader_ (plain TCP), not readLoop (TLS)
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point idle_since_;
  bool closed_ = false;
  bool keep_alive_ = true;
  bool request_written_ = false;
  bool response_done_ = false;
  bool upgraded_ = false;
  std::string tunnel_bytes_;  // read past the 101 response
};

}  // namespace meshnode::proxy::http1
