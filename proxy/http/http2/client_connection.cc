#include "proxy/http/http2/client_connection.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "common/log.h"
#include "proxy/http/http2/headers.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy::http2 {

class ClientConnection::Stream : public UpstreamStream {
 public:
  Stream(std::weak_ptr<ClientConnection> conn, const asio::any_io_executor& ex, size_t high)
      : UpstreamStream(ex), conn_(std::move(conn)) {
    response_body = std::make_shared<BodyPipe>(high);
  }

  void reset() override {
    if (closed_ || id < 0) return;
    if (auto c = conn_.lock()) {
      nghttp2_submit_rst_stream(c->session_.get(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      c->wantWrite();
    }
  }

  void setHead() {
    head.content_length = -1;
    if (const std::string* cl = findHeader(head.headers, "content-length"))
      head.content_length = std::strtoll(cl->c_str(), nullptr, 10);
    deliverHead(std::move(head));  // status stays set: later HEADERS are seen as trailers
  }
  void close(uint32_t error_code) {
    if (closed_) return;
    closed_ = true;
    if (request_body) request_body->detach();
    if (!hasHead()) {
      bool refused = error_code == NGHTTP2_REFUSED_STREAM;
      deliverError(
          makeError(refused ? ErrorCode::kRefused : ErrorCode::kReset, Side::kUpstream,
                    std::string("upstream stream closed: ") + nghttp2_http2_strerror(error_code),
                    /*retryable=*/true));
    } else if (error_code != NGHTTP2_NO_ERROR || !response_body->ended()) {
      response_body->abort();
    }
  }

  int32_t id = -1;
  ResponseHead head;
  size_t header_bytes = 0;
  std::shared_ptr<BodyPipe> request_body;

 private:
  std::weak_ptr<ClientConnection> conn_;
  bool closed_ = false;
};

ClientConnection::ClientConnection(TransportPtr transport, const Cluster& cluster,
                                   const Limits& limits)
    : SessionIo(std::move(transport), ""),
      limits_(limits),
      max_streams_(cluster.max_concurrent_streams),
      max_requests_(cluster.max_requests_per_connection) {
  nghttp2_session_callbacks* raw_cbs;
  nghttp2_session_callbacks_new(&raw_cbs);
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> cbs(raw_cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs.get(), &onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs.get(), &onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs.get(), &onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs.get(), &onStreamClose);
  createSession(cbs.get(), false, this, limits_,
                {
                    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
                    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_bytes},
                });
  bump(Stats::get().upstream_cx_total);
  bump(Stats::get().upstream_cx_active);
}

ClientConnection::~ClientConnection() {
  onIoClosed();
  drop(Stats::get().upstream_cx_active);
}

void ClientConnection::start() {
  auto self = shared_from_this();
  asio::co_spawn(executor_, runIo(self), asio::detached);
}

bool ClientConnection::available() const {
  if (closed()) return false;
  if (max_requests_ && requests_ >= max_requests_) return false;
  uint32_t remote =
      nghttp2_session_get_remote_settings(session_.get(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return streams_.size() < std::min(max_streams_, remote);
}

void ClientConnection::onIoClosed() {
  for (auto& [id, s] : streams_.takeAll())
    s->close(NGHTTP2_INTERNAL_ERROR);
}

ClientConnection::Stream* ClientConnection::find(int32_t id) {
  return streams_.find(id);
}

std::shared_ptr<UpstreamStream> ClientConnection::startRequest(const RequestHead& head,
                                                               std::shared_ptr<BodyPipe> body) {
  auto stream =
      std::make_shared<Stream>(weak_from_this(), executor_, limits_.buffer_high_watermark);
  ++requests_;
  bump(Stats::get().upstream_rq_total);
  std::vector<nghttp2_nv> nva;
  nva.push_back(makeNv(":method", head.method));
  nva.push_back(makeNv(":scheme", head.scheme));
  nva.push_back(makeNv(":authority", head.authority));
  nva.push_back(makeNv(":path", head.path));
  std::string length = std::to_string(head.content_length);
  if (head.content_length >= 0) nva.push_back(makeNv("content-length", length));
  for (const auto& [k, v] : head.headers)
    if (k != "content-length" && k != "host") nva.push_back(makeNv(k, v));
  nghttp2_data_provider provider{};
  provider.read_callback = &readBody;
  bool with_body = body && head.has_body;
  if (with_body) stream->request_body = body;
  int32_t id = nghttp2_submit_request(session_.get(), nullptr, nva.data(), nva.size(),
                                      with_body ? &provider : nullptr, nullptr);
  if (id < 0) {
    stream->close(NGHTTP2_REFUSED_STREAM);
    return stream;
  }
  stream->id = id;
  streams_.add(id, stream);
  std::weak_ptr<ClientConnection> weak = weak_from_this();
  stream->response_body->on_consumed = [weak, id](size_t n) {
    if (auto c = weak.lock()) {
      nghttp2_session_consume(c->session_.get(), id, n);
      c->wantWrite();
    }
  };
  if (with_body) {
    body->on_readable = [weak, id] {
      if (auto c = weak.lock()) {
        nghttp2_session_resume_data(c->session_.get(), id);
        c->wantWrite();
      }
    };
  }
  wantWrite();
  return stream;
}

int ClientConnection::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                               size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                               void* user) {
  auto* c = static_cast<ClientConnection*>(user);
  Stream* s = c->find(frame->hd.stream_id);
  if (!s || frame->hd.type != NGHTTP2_HEADERS) return 0;
  if (frame->headers.cat == NGHTTP2_HCAT_HEADERS && s->head.status >= 200) return 0;  // trailers
  s->header_bytes += namelen + valuelen + 32;
  if (s->header_bytes > c->limits_.max_header_bytes) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":status")
    s->head.status = std::atoi(std::string(v).c_str());
  else if (!n.empty() && n[0] != ':')
    s->head.headers.emplace_back(n, v);
  return 0;
}

int ClientConnection::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<ClientConnection*>(user);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    c->goaway_ = true;
    return 0;
  }
  Stream* s = c->find(frame->hd.stream_id);
  if (!s) return 0;
  bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (s->head.status >= 100 && s->head.status < 200) {
      s->head = ResponseHead{};  // interim response; wait for the final one
      s->header_bytes = 0;
      return 0;
    }
    if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) s->setHead();
  }
  if (end) s->response_body->finish();
  return 0;
}

int ClientConnection::onDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                                  size_t len, void* user) {
  auto* c = static_cast<ClientConnection*>(user);
  Stream* s = c->find(stream_id);
  if (!s) {
    nghttp2_session_consume(c->session_.get(), stream_id, len);
    return 0;
  }
  s->response_body->push(std::string_view(reinterpret_cast<const char*>(data), len));
  return 0;
}

int ClientConnection::onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                    void* user) {
  auto* c = static_cast<ClientConnection*>(user);
  auto stream = c->streams_.remove(stream_id);
  if (!stream) return 0;
  if (error_code != NGHTTP2_NO_ERROR) bump(Stats::get().upstream_rq_reset);
  stream->close(error_code);
  return 0;
}

ssize_t ClientConnection::readBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                   uint32_t* flags, nghttp2_data_source*, void* user) {
  auto* c = static_cast<ClientConnection*>(user);
  Stream* s = c->find(stream_id);
  if (!s || !s->request_body) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  return readFromPipe(*s->request_body, buf, length, flags);
}

}  // namespace meshnode::proxy::http2
