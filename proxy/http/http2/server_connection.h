#pragma once

#include <functional>
#include <map>

#include "proxy/http/http2/session.h"
#include "proxy/http/http2/stream_table.h"
#include "proxy/http/stream.h"
#include "proxy/network/drainable.h"

namespace meshnode::proxy::http2 {

using RequestHandler = std::function<void(std::shared_ptr<DownstreamStream>)>;

// The downstream side of an HTTP/2 connection (h2c prior knowledge): each stream becomes a
// DownstreamStream handed to the router. Runs on its worker thread.
class ServerConnection : public SessionIo,
                         public Drainable,
                         public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(TransportPtr transport, std::string initial_bytes, const Limits& limits,
                   RequestHandler handler);
  ~ServerConnection() override;

  asio::awaitable<void> run();
  // Sends GOAWAY and stops taking new streams; streams in flight finish.
  void drain() override;

 private:
  class Stream;

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* user);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user);
  static int onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user);
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);
  static ssize_t readBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void* user);

  void onIoClosed() override;
  Stream* find(int32_t id);
  void submitResponse(Stream& stream, ResponseHead& head);
  // The idle timeouts are checked by one timer per connection rather than one per stream, so a
  // request costs no timer operation; a timeout fires up to a quarter of its length late.
  void armSweep();
  void sweep();

  Limits limits_;
  RequestHandler handler_;
  StreamTable<Stream> streams_;
  asio::steady_timer sweep_timer_;
  std::chrono::steady_clock::time_point idle_since_;
};

}  // namespace meshnode::proxy::http2
