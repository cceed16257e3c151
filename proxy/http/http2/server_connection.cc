#include "proxy/http/http2/server_connection.h"

#include <array>

#include "common/log.h"
#include "proxy/http/http2/headers.h"
#include "proxy/stats/stats.h"
#include "proxy/stream/in_flight.h"

namespace meshnode::proxy::http2 {

class ServerConnection::Stream : public DownstreamStream {
 public:
  Stream(std::weak_ptr<ServerConnection> conn, int32_t id, const asio::any_io_executor& ex)
      : conn_(std::move(conn)), id_(id), done_(ex) {}
  ~Stream() override {
    if (response_body) response_body->on_readable = nullptr;
  }

  void sendResponse(ResponseHead head, std::shared_ptr<BodyPipe> body) override {
    if (started_ || closed_) return;
    started_ = true;
    response_body = std::move(body);
    auto conn = conn_.lock();
    if (!conn) return;
    if (response_body) {
      // The stream unhooks itself when it closes or goes, so `this` is alive when called.
      response_body->on_readable = [this] {
        if (auto c = conn_.lock()) {
          nghttp2_session_resume_data(c->session_.get(), id_);
          c->wantWrite(serializeNow());
        }
      };
    }
    Stats::get().countResponse(head.status);
    conn->submitResponse(*this, head);
  }
  void reset() override {
    if (closed_) return;
    if (auto conn = conn_.lock()) {
      nghttp2_submit_rst_stream(conn->session_.get(), NGHTTP2_FLAG_NONE, id_,
                                NGHTTP2_INTERNAL_ERROR);
      conn->wantWrite();
    }
    close();
  }
  bool responseStarted() const override { return started_; }
  asio::awaitable<bool> finished(Deadline deadline) override {
    while (!closed_) {
      bool woken = co_await done_.waitUntil(deadline);
      if (!woken) co_return false;
    }
    co_return true;
  }
  void onFinished(std::shared_ptr<FinishListener> listener) override {
    if (closed_) {
      if (listener) listener->streamFinished();
    } else {
      on_finished_ = std::move(listener);
    }
  }
  bool isHttp2() const override { return true; }

  // On a worker with many requests in flight, a response whose body is all there (or fills
  // the pipe) is serialized at once, from the codec call that completed it, while its stream,
  // pipe and exchange are in cache: the stream then closes, and its exchange goes, there
  // rather than a batch of responses later, when they have gone cold. With fewer, their state
  // stays in cache anyway, and serializing the batch's responses together costs less.
  bool serializeNow() const {
    return requests_in_flight >= kManyRequestsInFlight &&
           (!response_body || response_body->ended() || response_body->full());
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (request_body) request_body->abort();
    if (response_body) response_body->on_readable = nullptr;
    done_.notify();
    if (auto listener = std::exchange(on_finished_, nullptr)) listener->streamFinished();
  }

  int32_t id() const { return id_; }
  size_t header_bytes = 0;
  std::chrono::steady_clock::time_point last_activity;
  std::shared_ptr<BodyPipe> response_body;

 private:
  std::weak_ptr<ServerConnection> conn_;
  int32_t id_;
  Event done_;
  std::shared_ptr<FinishListener> on_finished_;
  bool started_ = false;
  bool closed_ = false;
};

ServerConnection::ServerConnection(TransportPtr transport, std::string initial_bytes,
                                   const Limits& limits, RequestHandler handler)
    : SessionIo(std::move(transport), std::move(initial_bytes)),
      limits_(limits),
      handler_(std::move(handler)),
      sweep_timer_(executor_),
      idle_since_(std::chrono::steady_clock::now()) {
  nghttp2_session_callbacks* raw_cbs;
  nghttp2_session_callbacks_new(&raw_cbs);
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> cbs(raw_cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs.get(), &onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs.get(), &onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs.get(), &onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs.get(), &onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs.get(), &onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs.get(), &onFrameSend);
  createSession(cbs.get(), true, this, limits_,
                {
                    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
                    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
                    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_bytes},
                });
}

ServerConnection::~ServerConnection() {
  onIoClosed();
}

asio::awaitable<void> ServerConnection::run() {
  auto self = shared_from_this();  // this frame touches the timer after the I/O ends
  armSweep();
  co_await runIo(self);
  sweep_timer_.cancel();
}

void ServerConnection::armSweep() {
  auto period = std::min(limits_.stream_idle_timeout, limits_.downstream_idle_timeout) / 4;
  sweep_timer_.expires_after(std::max(period, Millis(10)));
  sweep_timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    if (ec) return;
    if (auto c = weak.lock()) c->sweep();
  });
}

void ServerConnection::sweep() {
  if (io_closed_) return;
  auto now = std::chrono::steady_clock::now();
  if (streams_.empty() && now - idle_since_ >= limits_.downstream_idle_timeout) {
    // GOAWAY with NO_ERROR; both loops end once it is written.
    LOG_DEBUG("http2 peer %s: idle for %lld ms, closing", peer_.c_str(),
              static_cast<long long>(limits_.downstream_idle_timeout.count()));
    bump(Stats::get().downstream_cx_idle_timeout);
    nghttp2_session_terminate_session(session_.get(), NGHTTP2_NO_ERROR);
    wantWrite();
    return;
  }
  std::vector<std::shared_ptr<Stream>> idle;
  for (const auto& [id, s] : streams_)
    if (now - s->last_activity >= limits_.stream_idle_timeout) idle.push_back(s);
  for (const auto& s : idle) {
    // As Envoy does: 408 while no response has started, a reset once one has.
    bump(Stats::get().downstream_rq_idle_timeout);
    s->last_activity = now;
    if (!s->responseStarted()) {
      ResponseHead head;
      head.status = 408;
      head.content_length = 0;
      s->sendResponse(std::move(head), nullptr);
    } else {
      s->reset();
    }
  }
  armSweep();
}

void ServerConnection::drain() {
  nghttp2_submit_shutdown_notice(session_.get());
  nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_.get()), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  wantWrite();
}

void ServerConnection::onIoClosed() {
  for (auto& [id, s] : streams_.takeAll())
    s->close();
}

ServerConnection::Stream* ServerConnection::find(int32_t id) {
  return streams_.find(id);
}

int ServerConnection::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto stream = std::make_shared<Stream>(c->weak_from_this(), frame->hd.stream_id, c->executor_);
  stream->request.scheme.clear();
  stream->request.headers.reserve(kHeadersReserved);
  stream->last_activity = c->io_now_;
  c->streams_.add(frame->hd.stream_id, std::move(stream));
  return 0;
}

int ServerConnection::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                               size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                               void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  Stream* s = c->find(frame->hd.stream_id);
  if (!s) return 0;
  s->header_bytes += namelen + valuelen + 32;
  if (s->header_bytes > c->limits_.max_header_bytes ||
      s->request.headers.size() >= c->limits_.max_headers)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets just this stream
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  RequestHead& r = s->request;
  if (n == ":method")
    r.method = v;
  else if (n == ":scheme")
    r.scheme = v;
  else if (n == ":authority")
    r.authority = v;
  else if (n == ":path")
    r.path = v;
  else if (n == "host") {
    if (r.authority.empty()) r.authority = v;
  } else
    r.headers.emplace_back(n, v);
  return 0;
}

int ServerConnection::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  Stream* s = c->find(frame->hd.stream_id);
  if (!s) return 0;
  s->last_activity = c->io_now_;
  bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    RequestHead& r = s->request;
    if (r.method == "CONNECT" || r.path.empty()) {
      nghttp2_submit_rst_stream(c->session_.get(), NGHTTP2_FLAG_NONE, s->id(),
                                NGHTTP2_PROTOCOL_ERROR);
      return 0;
    }
    if (r.scheme.empty()) r.scheme = "http";
    stripHopByHop(r.headers);
    if (const std::string* cl = findHeader(r.headers, "content-length"))
      r.content_length = std::strtoll(cl->c_str(), nullptr, 10);
    r.has_body = !end;
    int32_t id = s->id();
    if (!end) {
      // Only a request with a body gets a pipe; the others leave request_body null.
      s->request_body = std::make_shared<BodyPipe>(c->limits_.buffer_high_watermark);
      std::weak_ptr<ServerConnection> weak = c->weak_from_this();
      s->request_body->on_consumed = [weak, id](size_t n) {
        if (auto conn = weak.lock()) {
          nghttp2_session_consume(conn->session_.get(), id, n);
          conn->wantWrite();
        }
      };
    }
    bump(Stats::get().downstream_rq_total);
    c->handler_(c->streams_.at(id));
  } else if (end) {
    // The last DATA frame, or trailers.
    if (s->request_body) s->request_body->finish();
  }
  return 0;
}

int ServerConnection::onFrameSend(nghttp2_session* session, const nghttp2_frame* frame,
                                  void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
  Stream* s = c->find(frame->hd.stream_id);
  // The response is complete while the client still sends its body: ask it to stop without
  // error (RFC 9113 8.1), as nothing will read the rest.
  if (s && s->request_body && !s->request_body->ended())
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  return 0;
}

int ServerConnection::onDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                                  size_t len, void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  Stream* s = c->find(stream_id);
  if (!s || !s->request_body) {
    nghttp2_session_consume(c->session_.get(), stream_id, len);
    return 0;
  }
  s->request_body->push(std::string_view(reinterpret_cast<const char*>(data), len));
  return 0;
}

int ServerConnection::onStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  auto stream = c->streams_.remove(stream_id);
  if (!stream) return 0;
  if (c->streams_.empty()) c->idle_since_ = c->io_now_;
  stream->close();
  return 0;
}

ssize_t ServerConnection::readBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                   uint32_t* flags, nghttp2_data_source*, void* user) {
  auto* c = static_cast<ServerConnection*>(user);
  Stream* s = c->find(stream_id);
  if (!s || !s->response_body) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  ssize_t n = readFromPipe(*s->response_body, buf, length, flags);
  if (n > 0) s->last_activity = c->io_now_;
  return n;
}

void ServerConnection::submitResponse(Stream& stream, ResponseHead& head) {
  stripHopByHop(head.headers);
  if (head.content_length >= 0)
    setHeader(head.headers, "content-length", std::to_string(head.content_length));
  std::string status = std::to_string(head.status);
  // Most responses fit the array; a longer header list takes the vector.
  std::array<nghttp2_nv, 32> small;
  std::vector<nghttp2_nv> large;
  nghttp2_nv* nva = small.data();
  if (head.headers.size() + 1 > small.size()) {
    large.resize(head.headers.size() + 1);
    nva = large.data();
  }
  size_t n = 0;
  nva[n++] = makeNv(":status", status);
  for (const auto& [k, v] : head.headers)
    nva[n++] = makeNv(k, v);
  nghttp2_data_provider provider{};
  provider.read_callback = &readBody;
  nghttp2_submit_response(session_.get(), stream.id(), nva, n,
                          stream.response_body ? &provider : nullptr);
  wantWrite(stream.serializeNow());
}

}  // namespace meshnode::proxy::http2
