#pragma once

#include <map>

#include "proxy/http/http2/session.h"
#include "proxy/http/http2/stream_table.h"
#include "proxy/http/stream.h"

namespace meshnode::proxy::http2 {

// An HTTP/2 connection to one upstream endpoint, multiplexing up to the cluster's stream limit
// (or the peer's SETTINGS_MAX_CONCURRENT_STREAMS when lower). Runs on its worker thread.
class ClientConnection : public UpstreamConnection,
                         public SessionIo,
                         public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(TransportPtr transport, const Cluster& cluster, const Limits& limits);
  ~ClientConnection() override;

  void start();

  std::shared_ptr<UpstreamStream> startRequest(const RequestHead& head,
                                               std::shared_ptr<BodyPipe> body) override;
  bool available() const override;
  bool closed() const override { return io_closed_ || goaway_; }
  bool isHttp2() const override { return true; }
  void close() override { closeSocket(); }

 private:
  class Stream;

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* user);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user);
  static int onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);
  static ssize_t readBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source* source, void* user);

  void onIoClosed() override;
  Stream* find(int32_t id);

  Limits limits_;
  uint32_t max_streams_;
  uint32_t max_requests_;
  uint32_t requests_ = 0;
  bool goaway_ = false;
  StreamTable<Stream> streams_;
};

}  // namespace meshnode::proxy::http2
