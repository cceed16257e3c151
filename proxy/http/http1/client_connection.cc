#include "proxy/http/http1/client_connection.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include "common/log.h"
#include "proxy/http/http1/wire.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy::http1 {

class ClientConnection::Stream : public UpstreamStream {
 public:
  Stream(std::weak_ptr<ClientConnection> conn, const asio::any_io_executor& ex,
         size_t high_watermark)
      : UpstreamStream(ex), conn_(std::move(conn)) {
    response_body = std::make_shared<BodyPipe>(high_watermark);
  }
  ~Stream() override { response_body->on_consumed = nullptr; }

  // The connection stopped reading while the pipe is full, and wants to hear when the consumer
  // takes from it. Only then: the hook runs on every read of the body, when the connection
  // is long out of cache. The pipe may outlive the stream, which unhooks itself when it goes.
  void wakeConnectionWhenConsumed() {
    if (response_body->on_consumed) return;
    response_body->on_consumed = [this](size_t) {
      if (auto c = conn_.lock()) c->bodyConsumed();
    };
  }

  // Only while the connection still carries this request: once its response ended, the
  // connection went back to the pool and may be serving another.
  void reset() override {
    if (auto c = conn_.lock(); c && c->current_.get() == this) c->close();
  }

  void setHead(ResponseHead h) { deliverHead(std::move(h)); }
  void fail(Error e) {
    if (hasHead())
      response_body->abort();
    else
      deliverError(std::move(e));
  }
  using UpstreamStream::hasHead;

  bool head_request = false;

 private:
  std::weak_ptr<ClientConnection> conn_;
};

// The callbacks are the same for every connection: one copy, which stays in cache, rather than
// one in each connection.
const llhttp_settings_t& ClientConnection::parserSettings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_status = &ClientConnection::onStatus;
    s.on_header_field = &ClientConnection::onHeaderField;
    s.on_header_value = &ClientConnection::onHeaderValue;
    s.on_header_value_complete = &ClientConnection::onHeaderValueComplete;
    s.on_headers_complete = &ClientConnection::onHeadersComplete;
    s.on_body = &ClientConnection::onBody;
    s.on_message_complete = &ClientConnection::onMessageComplete;
    return s;
  }();
  return settings;
}

ClientConnection::ClientConnection(TransportPtr transport, const Cluster& cluster,
                                   const Limits& limits)
    : transport_(std::move(transport)),
      executor_(transport_->executor()),
      idle_timeout_(cluster.idle_timeout),
      max_requests_(cluster.max_requests_per_connection),
      limits_(limits),
      wake_(executor_),
      idle_timer_(executor_),
      idle_since_(std::chrono::steady_clock::now()) {
  llhttp_init(&parser_, HTTP_RESPONSE, &parserSettings());
  parser_.data = this;
  head_.headers.reserve(kHeadersReserved);
  bump(Stats::get().upstream_cx_total);
  bump(Stats::get().upstream_cx_active);
}

ClientConnection::~ClientConnection() {
  drop(Stats::get().upstream_cx_active);
}

void ClientConnection::start() {
  if (transport_->ssl()) {
    asio::co_spawn(executor_, readLoop(), asio::detached);
  } else {
    tcp_reads_ = true;
    readNext();
  }
  armIdleSweep();
}

void ClientConnection::bodyConsumed() {
  if (read_paused_) {
    read_paused_ = false;
    readNext();
  } else if (!tcp_reads_) {
    wake_.notify();
  }
}

void ClientConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (transport_) transport_->close();
  idle_timer_.cancel();
  failCurrent("upstream connection closed");
  wake_.notify();
}

std::optional<Tunnel> ClientConnection::takeTunnel() {
  if (!upgraded_ || !open()) return std::nullopt;
  upgraded_ = false;
  closed_ = true;  // never back in the pool
  current_.reset();
  return Tunnel{std::move(transport_), std::move(tunnel_bytes_)};
}

void ClientConnection::failCurrent(const std::string& why) {
  if (!current_) return;
  auto stream = std::move(current_);
  stream->fail(makeError(ErrorCode::kReset, Side::kUpstream, why,
                         /*retryable=*/!stream->hasHead()));
}

// One timer per connection checks the idle timeout, rather than one armed and cancelled around
// every request; the close comes up to a quarter of the timeout late.
void ClientConnection::armIdleSweep() {
  idle_timer_.expires_after(std::max(idle_timeout_ / 4, Millis(10)));
  idle_timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    if (!self->current_ &&
        std::chrono::steady_clock::now() - self->idle_since_ >= self->idle_timeout_) {
      self->close();
      return;
    }
    self->armIdleSweep();
  });
}

void ClientConnection::becameIdle() {
  current_.reset();
  if (!keep_alive_) {
    close();
    return;
  }
  idle_since_ = std::chrono::steady_clock::now();
  if (on_idle) on_idle();
}

std::shared_ptr<UpstreamStream> ClientConnection::startRequest(const RequestHead& head,
                                                               std::shared_ptr<BodyPipe> body) {
  auto stream =
      std::make_shared<Stream>(weak_from_this(), executor_, limits_.buffer_high_watermark);
  stream->head_request = head.method == "HEAD";
  if (closed_) {
    stream->fail(makeError(ErrorCode::kReset, Side::kUpstream, "upstream connection closed", true));
    return stream;
  }
  current_ = stream;
  request_written_ = false;
  response_done_ = false;
  ++requests_;
  if (max_requests_ && requests_ >= max_requests_) keep_alive_ = false;
  bump(Stats::get().upstream_rq_total);

  Framing framing = Framing::kNone;
  long long length = head.content_length;
  if (head.content_length >= 0) {
    framing = Framing::kLength;
  } else if (head.has_body) {
    framing = Framing::kChunked;
  } else if (head.method == "POST" || head.method == "PUT" || head.method == "PATCH") {
    length = 0;
    framing = Framing::kLength;
  }
  if (!body || framing == Framing::kNone) body.reset();
  head_out_.clear();
  appendRequestHead(head_out_, head, framing, length);
  if (!body) {
    // A request without a body nearly always goes out in one write; the writer coroutine is
    // only for what the socket did not take.
    std::error_code ec;
    size_t sent = transport_->writeNow(asio::buffer(head_out_), ec);
    if (ec) {
      close();
      return stream;
    }
    bump(Stats::get().upstream_bytes_tx, sent);
    if (sent == head_out_.size()) {
      request_written_ = true;
      return stream;
    }
    head_out_.erase(0, sent);
  }
  asio::co_spawn(
      executor_,
      writeRequest(stream, std::move(head_out_), std::move(body), static_cast<int>(framing)),
      asio::detached);
  return stream;
}

asio::awaitable<void> ClientConnection::writeRequest(std::shared_ptr<Stream> stream,
                                                     std::string out,
                                                     std::shared_ptr<BodyPipe> body,
                                                     int framing_value) {
  auto self = shared_from_this();
  auto framing = static_cast<Framing>(framing_value);
  Event ready(executor_);
  if (body) body->on_readable = [&ready] { ready.notify(); };
  char chunk[16384];
  std::error_code ec;
  for (;;) {
    if (body) {
      size_t n = body->read(chunk, sizeof(chunk));
      appendBody(out, std::string_view(chunk, n), framing);
      if (body->drained()) {
        if (framing == Framing::kChunked) out += "0\r\n\r\n";
        body->on_readable = nullptr;
        body.reset();
      } else if (body->aborted()) {
        body->detach();
        close();  // a half-sent request cannot be finished on HTTP/1
        co_return;
      }
    }
    if (!out.empty()) {
      bump(Stats::get().upstream_bytes_tx, out.size());
      co_await transport_->writeAll(asio::buffer(out), ec);
      out.clear();
      if (ec) {
        if (body) body->detach();
        close();
        co_return;
      }
    }
    if (!body) break;
    if (body->size() == 0 && !body->ended() && !body->aborted()) co_await ready.wait();
    if (closed_) {
      if (body) body->detach();
      co_return;
    }
  }
  request_written_ = true;
  if (response_done_ && current_ == stream) becameIdle();
}

void ClientConnection::readNext(std::shared_ptr<void> keep_alive) {
  if (closed_ || !open()) return;
  if (current_ && current_->response_body->full()) {
    read_paused_ = true;
    current_->wakeConnectionWhenConsumed();
    return;
  }
  // An idle connection keeps its read pending, which costs nothing once the socket is known
  // empty, so an upstream closing it is noticed at once.
  if (!keep_alive) keep_alive = shared_from_this();
  reader_.read(transport_->socket(), *this, std::move(keep_alive));
}

void ClientConnection::readDone(std::error_code ec, const char* data, size_t n,
                                std::shared_ptr<void> keep_alive) {
  if (onBytes(data, n, ec)) readNext(std::move(keep_alive));
}

asio::awaitable<void> ClientConnection::readLoop() {
  auto self = shared_from_this();
  char chunk[kReadChunk];
  while (!closed_) {
    if (current_ && current_->response_body->full()) {
      current_->wakeConnectionWhenConsumed();
      co_await wake_.wait();
      continue;
    }
    std::error_code ec;
    size_t n = co_await transport_->readSome(asio::buffer(chunk), ec);
    if (!onBytes(chunk, n, ec)) co_return;
  }
}

bool ClientConnection::onBytes(const char* data, size_t n, std::error_code ec) {
  if (ec || n == 0) {
    if (current_ && current_->hasHead()) llhttp_finish(&parser_);  // close-delimited body
    close();
    return false;
  }
  bump(Stats::get().upstream_bytes_rx, n);
  if (!current_) {
    // Bytes while idle: the upstream is confused; this connection cannot be reused.
    close();
    return false;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, n);
  if (err == HPE_PAUSED_UPGRADE) {
    // 101: the rest of the connection belongs to the tunnel the exchange builds.
    const char* pos = llhttp_get_error_pos(&parser_);
    tunnel_bytes_.assign(pos, static_cast<size_t>(data + n - pos));
    upgraded_ = true;
    keep_alive_ = false;
    idle_timer_.cancel();
    return false;
  }
  if (err != HPE_OK) {
    LOG_DEBUG("http1 upstream %s: %s", llhttp_errno_name(err), llhttp_get_error_reason(&parser_));
    keep_alive_ = false;
    if (current_) {
      auto stream = current_;
      stream->fail(
          makeError(ErrorCode::kProtocol, Side::kUpstream,
                    std::string("invalid HTTP/1 response: ") + llhttp_get_error_reason(&parser_)));
    }
    close();
    return false;
  }
  return !closed_;
}

int ClientConnection::onStatus(llhttp_t*, const char*, size_t) {
  return 0;
}

int ClientConnection::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ClientConnection*>(p->data);
  c->header_bytes_ += len;
  if (c->header_bytes_ > c->limits_.max_header_bytes) return -1;
  c->field_.append(at, len);
  return 0;
}

int ClientConnection::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ClientConnection*>(p->data);
  c->header_bytes_ += len;
  if (c->header_bytes_ > c->limits_.max_header_bytes) return -1;
  c->value_.append(at, len);
  return 0;
}

int ClientConnection::onHeaderValueComplete(llhttp_t* p) {
  auto* c = static_cast<ClientConnection*>(p->data);
  if (c->head_.headers.size() >= c->limits_.max_headers || !validHeaderValue(c->value_)) return -1;
  lowerCaseInPlace(c->field_);
  trimValueInPlace(c->value_);
  c->head_.headers.emplace_back(std::move(c->field_), std::move(c->value_));
  c->field_.clear();
  c->value_.clear();
  return 0;
}

int ClientConnection::onHeadersComplete(llhttp_t* p) {
  auto* c = static_cast<ClientConnection*>(p->data);
  ResponseHead head = std::move(c->head_);
  c->head_ = ResponseHead{};
  c->head_.headers.reserve(kHeadersReserved);
  c->header_bytes_ = 0;
  head.status = p->status_code;
  if (head.status == 101 && p->upgrade) {
    stripHopByHop(head.headers, /*keep_upgrade=*/true);
    if (c->current_) c->current_->setHead(std::move(head));
    return 0;
  }
  if (head.status >= 100 && head.status < 200) return 0;  // interim; the final one follows
  if (!llhttp_should_keep_alive(p)) c->keep_alive_ = false;
  head.content_length =
      (p->flags & F_CONTENT_LENGTH) ? static_cast<long long>(p->content_length) : -1;
  stripHopByHop(head.headers);
  bool skip_body = c->current_ && c->current_->head_request;
  if (c->current_) c->current_->setHead(std::move(head));
  return skip_body ? 1 : 0;
}

int ClientConnection::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ClientConnection*>(p->data);
  if (c->current_) c->current_->response_body->push(std::string_view(at, len));
  return 0;
}

int ClientConnection::onMessageComplete(llhttp_t* p) {
  auto* c = static_cast<ClientConnection*>(p->data);
  if (p->status_code == 101 && p->upgrade) return 0;
  if (p->status_code >= 100 && p->status_code < 200) return 0;
  if (!c->current_) return 0;
  c->current_->response_body->finish();
  c->response_done_ = true;
  if (c->request_written_) {
    if (!c->keep_alive_) {
      c->current_.reset();
      c->closed_ = true;  // the read loop closes the socket when it regains control
      std::error_code ec;
      c->transport_->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    } else {
      c->becameIdle();
    }
  }
  return 0;
}

}  // namespace meshnode::proxy::http1
