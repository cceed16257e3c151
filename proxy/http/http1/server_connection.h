#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <llhttp.h>

#include "proxy/http/stream.h"
#include "proxy/network/drainable.h"
#include "proxy/network/transport.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy::http1 {

using RequestHandler = std::function<void(std::shared_ptr<DownstreamStream>)>;

// The downstream side of an HTTP/1.1 connection: parses requests with llhttp one at a time,
// in order (pipelined requests wait in the buffer), and writes each response before the next
// request is read. Runs on its worker thread for its whole life.
class ServerConnection : public Drainable, public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(TransportPtr transport, std::string initial_bytes, const Limits& limits,
                   RequestHandler handler);
  ~ServerConnection() override;

  void drain() override;

  asio::awaitable<void> run();

  std::string takeBufferedBytes();

 private:
  class Stream;
  friend class Stream;

  static const llhttp_settings_t& parserSettings();
  static int onMessageBegin(llhttp_t* p);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onMessageComplete(llhttp_t* p);

  int headersComplete();
  bool addHeaderBytes(size_t len);
  bool followsLineBreak(const char* at) const;
  // Starts the response of `stream`: written at once when it can be, else by writeResponse.
  void respond(std::shared_ptr<Stream> stream, ResponseHead head, std::shared_ptr<BodyPipe> body);
  // Writes `out` (the head, perhaps some body) and then the rest of `body`.
  asio::awaitable<void> writeResponse(std::shared_ptr<Stream> stream, std::string out,
                                      std::shared_ptr<BodyPipe> body, int framing, int status);
  asio::awaitable<void> writeSimple(int status, const std::string& body);
  void closeSocket();
  void armIdleSweep();

  TransportPtr transport_;  // null once handed over as a Tunnel
  asio::any_io_executor executor_;
  bool open() const { return transport_ && transport_->isOpen(); }
  Limits limits_;
  RequestHandler handler_;
  llhttp_t parser_{};
  std::string buffer_;  // bytes read but not yet parsed
  size_t parsed_ = 0;
  std::string tail_;  // the last bytes parsed before buffer_ was emptied

  // The request being parsed.
  RequestHead head_;
  std::string field_;
  std::string value_;
  std::string head_out_;  // the response head being written, reused across responses
  bool in_value_ = false;
  size_t header_bytes_ = 0;
  int error_status_ = 0;

  std::shared_ptr<Stream> current_;
  Event wake_;  // body consumed, response finished, or stream reset
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point idle_since_;  // when the last request ended
  bool closing_ = false;
  bool paused_ = false;  // the parser stopped at the end of a request
  bool upgraded_ = false;
};

}  // namespace meshnode::proxy::http1
