#include "proxy/http/http1/server_connection.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "common/log.h"
#include "proxy/http/http1/wire.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy::http1 {

class ServerConnection::Stream : public DownstreamStream {
 public:
  Stream(std::weak_ptr<ServerConnection> conn, const asio::any_io_executor& ex)
      : conn_(std::move(conn)), done_(ex) {}

  void sendResponse(ResponseHead head, std::shared_ptr<BodyPipe> body) override {
    if (started_ || reset_) return;
    started_ = true;
    auto conn = conn_.lock();
    if (!conn) return;
    conn->respond(std::static_pointer_cast<Stream>(shared_from_this_()), std::move(head),
                  std::move(body));
  }
  void reset() override {
    if (reset_) return;
    reset_ = true;
    if (auto conn = conn_.lock()) {
      conn->closing_ = true;
      conn->closeSocket();
    }
    finish();
  }
  bool responseStarted() const override { return started_; }
  asio::awaitable<bool> finished(Deadline deadline) override {
    while (!complete_) {
      bool woken = co_await done_.waitUntil(deadline);
      if (!woken) co_return false;
    }
    co_return true;
  }
  void onFinished(std::shared_ptr<FinishListener> listener) override {
    if (complete_) {
      if (listener) listener->streamFinished();
    } else {
      on_finished_ = std::move(listener);
    }
  }
  bool isHttp2() const override { return false; }
  std::optional<Tunnel> takeTunnel() override {
    auto conn = std::move(upgrading_);
    if (!conn || !conn->upgraded_ || !conn->open()) return std::nullopt;
    return Tunnel{std::move(conn->transport_), conn->takeBufferedBytes()};
  }

  void finish() {
    complete_ = true;
    if (auto conn = conn_.lock(); conn && !conn->upgraded_) upgrading_.reset();
    done_.notify();
    if (auto conn = conn_.lock()) conn->wake_.notify();
    if (auto listener = std::exchange(on_finished_, nullptr)) listener->streamFinished();
  }

  // Holds the connection for an upgrade request until the exchange takes the tunnel.
  std::shared_ptr<ServerConnection> upgrading_;
  bool complete() const { return complete_; }
  bool wasReset() const { return reset_; }

  std::weak_ptr<DownstreamStream> weak_self;

 private:
  std::shared_ptr<DownstreamStream> shared_from_this_() { return weak_self.lock(); }

  std::weak_ptr<ServerConnection> conn_;
  Event done_;
  std::shared_ptr<FinishListener> on_finished_;
  bool started_ = false;
  bool reset_ = false;
  bool complete_ = false;
};

// The callbacks are the same for every connection: one copy, which stays in cache, rather than
// one in each connection.
const llhttp_settings_t& ServerConnection::parserSettings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &ServerConnection::onMessageBegin;
    s.on_url = &ServerConnection::onUrl;
    s.on_header_field = &ServerConnection::onHeaderField;
    s.on_header_value = &ServerConnection::onHeaderValue;
    s.on_header_value_complete = &ServerConnection::onHeaderValueComplete;
    s.on_headers_complete = &ServerConnection::onHeadersComplete;
    s.on_body = &ServerConnection::onBody;
    s.on_message_complete = &ServerConnection::onMessageComplete;
    return s;
  }();
  return settings;
}

ServerConnection::ServerConnection(TransportPtr transport, std::string initial_bytes,
                                   const Limits& limits, RequestHandler handler)
    : transport_(std::move(transport)),
      executor_(transport_->executor()),
      limits_(limits),
      handler_(std::move(handler)),
      buffer_(std::move(initial_bytes)),
      wake_(executor_),
      idle_timer_(executor_),
      idle_since_(std::chrono::steady_clock::now()) {
  llhttp_init(&parser_, HTTP_REQUEST, &parserSettings());
  parser_.data = this;
}

ServerConnection::~ServerConnection() {
  if (current_ && current_->request_body) current_->request_body->abort();
}

void ServerConnection::drain() {
  closing_ = true;
  if (!current_) closeSocket();
}

void ServerConnection::closeSocket() {
  if (upgraded_ && current_) current_->upgrading_.reset();
  if (transport_) transport_->close();
  wake_.notify();
}

std::string ServerConnection::takeBufferedBytes() {
  std::string rest = buffer_.substr(parsed_);
  buffer_.clear();
  parsed_ = 0;
  return rest;
}

// Between requests the client has the downstream idle timeout to start the next one. One
// timer per connection checks it, rather than one raced against every read, so a request costs
// no timer operation; the close comes up to a quarter of the timeout late.
void ServerConnection::armIdleSweep() {
  idle_timer_.expires_after(std::max(limits_.downstream_idle_timeout / 4, Millis(10)));
  idle_timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    auto c = weak.lock();
    if (ec || !c || !c->open()) return;
    if (!c->current_ &&
        std::chrono::steady_clock::now() - c->idle_since_ >= c->limits_.downstream_idle_timeout) {
      bump(Stats::get().downstream_cx_idle_timeout);
      c->closeSocket();
      return;
    }
    c->armIdleSweep();
  });
}

asio::awaitable<void> ServerConnection::run() {
  auto self = shared_from_this();
  armIdleSweep();
  char chunk[16384];
  for (;;) {
    // Parse what is buffered unless the parser stopped at the end of a request or the request
    // body pipe is full; the parser pauses at the end of each request.
    bool body_full = current_ && current_->request_body && current_->request_body->full();
    if (!paused_ && parsed_ < buffer_.size() && !body_full) {
      llhttp_errno_t err =
          llhttp_execute(&parser_, buffer_.data() + parsed_, buffer_.size() - parsed_);
      size_t consumed = buffer_.size() - parsed_;
      if (err == HPE_PAUSED) {
        paused_ = true;
        consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - (buffer_.data() + parsed_));
      }
      parsed_ += consumed;
      if (err != HPE_OK && err != HPE_PAUSED) {
        bump(Stats::get().downstream_cx_protocol_error);
        int status = error_status_ ? error_status_ : 400;
        LOG_DEBUG("http1 downstream %s: %s", llhttp_errno_name(err),
                  llhttp_get_error_reason(&parser_));
        if (current_) {
          if (current_->request_body) current_->request_body->abort();
          if (!current_->responseStarted()) co_await writeSimple(status, reasonPhrase(status));
          current_->reset();
        } else {
          co_await writeSimple(status, reasonPhrase(status));
        }
        closeSocket();
        co_return;
      }
      if (parsed_ == buffer_.size()) {
        tail_ = buffer_.substr(buffer_.size() - std::min<size_t>(buffer_.size(), 8));
        buffer_.clear();
        parsed_ = 0;
      }
      continue;
    }
    if (current_) {
      const auto& body = current_->request_body;
      bool request_done = !body || body->ended() || body->aborted();
      if (current_->complete()) {
        if (request_done) {
          bool reset = current_->wasReset();
          current_.reset();
          idle_since_ = std::chrono::steady_clock::now();
          if (reset || closing_ || upgraded_) co_return;
          paused_ = false;
          llhttp_resume(&parser_);
          continue;
        }
        // The response is out while the client still sends its body: keep reading it (the
        // upstream may still take it, or the pipe drops it once detached).
        if (body_full) {
          co_await wake_.wait();
          if (!open()) co_return;
          continue;
        }
      } else if (body_full || request_done) {
        co_await wake_.wait();
        if (!open()) co_return;
        continue;
      }
    }
    if (closing_ || !open()) co_return;
    std::error_code ec;
    size_t n = co_await transport_->readSome(asio::buffer(chunk), ec);
    if (ec || n == 0) {
      if (current_) {
        if (current_->request_body) current_->request_body->abort();
        if (!current_->complete()) current_->reset();
      }
      co_return;
    }
    bump(Stats::get().downstream_bytes_rx, n);
    if (buffer_.size() - parsed_ + n > limits_.max_header_bytes + sizeof(chunk) && !current_) {
      co_await writeSimple(431, reasonPhrase(431));
      closeSocket();
      co_return;
    }
    buffer_.append(chunk, n);
  }
}

int ServerConnection::onMessageBegin(llhttp_t* p) {
  auto* c = static_cast<ServerConnection*>(p->data);
  c->head_ = RequestHead{};
  c->head_.headers.reserve(kHeadersReserved);
  c->field_.clear();
  c->value_.clear();
  c->in_value_ = false;
  c->header_bytes_ = 0;
  return 0;
}

bool ServerConnection::followsLineBreak(const char* at) const {
  // Spans handed to callbacks point into buffer_; before its start come the last bytes of
  // what was parsed earlier, kept in tail_.
  const char* begin = buffer_.data();
  const char* p = at;
  while (p > begin && (p[-1] == ' ' || p[-1] == '\t'))
    --p;
  if (p > begin) return p[-1] == '\n';
  for (auto it = tail_.rbegin(); it != tail_.rend(); ++it) {
    if (*it == ' ' || *it == '\t') continue;
    return *it == '\n';
  }
  return false;
}

bool ServerConnection::addHeaderBytes(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ > limits_.max_header_bytes) {
    error_status_ = 431;
    return false;
  }
  return true;
}

int ServerConnection::onUrl(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ServerConnection*>(p->data);
  if (!c->addHeaderBytes(len)) return -1;
  c->head_.path.append(at, len);
  return 0;
}

int ServerConnection::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ServerConnection*>(p->data);
  if (!c->addHeaderBytes(len)) return -1;
  c->field_.append(at, len);
  return 0;
}

int ServerConnection::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ServerConnection*>(p->data);
  if (!c->addHeaderBytes(len)) return -1;
  if (c->followsLineBreak(at)) return -1;  // obsolete line folding (RFC 9112 5.2)
  c->value_.append(at, len);
  return 0;
}

int ServerConnection::onHeaderValueComplete(llhttp_t* p) {
  auto* c = static_cast<ServerConnection*>(p->data);
  if (c->head_.headers.size() >= c->limits_.max_headers) {
    c->error_status_ = 431;
    return -1;
  }
  if (!validHeaderValue(c->value_)) return -1;
  lowerCaseInPlace(c->field_);
  trimValueInPlace(c->value_);
  c->head_.headers.emplace_back(std::move(c->field_), std::move(c->value_));
  c->field_.clear();
  c->value_.clear();
  return 0;
}

int ServerConnection::onHeadersComplete(llhttp_t* p) {
  return static_cast<ServerConnection*>(p->data)->headersComplete();
}

int ServerConnection::headersComplete() {
  RequestHead& h = head_;
  h.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  h.http10 = parser_.http_major == 1 && parser_.http_minor == 0;
  if (const std::string* host = findHeader(h.headers, "host")) h.authority = *host;
  if (h.authority.empty() && !h.http10) {
    error_status_ = 400;  // RFC 9112 3.2: a 1.1 request without Host is invalid
    return -1;
  }
  if (h.method == "CONNECT") {
    error_status_ = 405;
    return -1;
  }
  if (h.path.empty() || (h.path[0] != '/' && h.path != "*")) {
    // Absolute-form: keep only origin-form on the way up.
    auto scheme_end = h.path.find("://");
    if (scheme_end == std::string::npos) {
      error_status_ = 400;
      return -1;
    }
    auto path_start = h.path.find('/', scheme_end + 3);
    if (h.authority.empty())
      h.authority = h.path.substr(scheme_end + 3, path_start - scheme_end - 3);
    h.path = path_start == std::string::npos ? "/" : h.path.substr(path_start);
  }
  const std::string* expect = findHeader(h.headers, "expect");
  h.expect_continue = expect && equalsIgnoreCase(*expect, "100-continue");
  removeHeader(h.headers, "expect");
  h.upgrade = parser_.upgrade && findHeader(h.headers, "upgrade") != nullptr;
  if (!llhttp_should_keep_alive(&parser_)) closing_ = true;
  stripHopByHop(h.headers, h.upgrade);
  removeHeader(h.headers, "host");
  h.content_length =
      (parser_.flags & F_CONTENT_LENGTH) ? static_cast<long long>(parser_.content_length) : -1;
  h.has_body = h.content_length > 0 || (parser_.flags & F_CHUNKED);

  auto stream = std::make_shared<Stream>(weak_from_this(), executor_);
  stream->weak_self = stream;
  if (h.upgrade) stream->upgrading_ = shared_from_this();
  stream->request = std::move(h);
  if (stream->request.has_body) {
    // Only a request with a body gets a pipe; the others leave request_body null.
    stream->request_body = std::make_shared<BodyPipe>(limits_.buffer_high_watermark);
    std::weak_ptr<ServerConnection> weak = weak_from_this();
    stream->request_body->on_consumed = [weak](size_t) {
      if (auto c = weak.lock()) c->wake_.notify();
    };
  }
  current_ = stream;
  bump(Stats::get().downstream_rq_total);
  if (stream->request.expect_continue) {
    // Answered here rather than relayed, so the client never waits on an upstream that
    // ignores Expect.
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::co_spawn(
        executor_,
        [self = shared_from_this()]() -> asio::awaitable<void> {
          std::error_code ec;
          co_await self->transport_->writeAll(asio::buffer(kContinue), ec);
        },
        asio::detached);
  }
  handler_(stream);
  return 0;
}

int ServerConnection::onBody(llhttp_t* p, const char* at, size_t len) {
  auto* c = static_cast<ServerConnection*>(p->data);
  if (c->current_ && c->current_->request_body)
    c->current_->request_body->push(std::string_view(at, len));
  return 0;
}

int ServerConnection::onMessageComplete(llhttp_t* p) {
  auto* c = static_cast<ServerConnection*>(p->data);
  if (c->current_ && c->current_->request_body) c->current_->request_body->finish();
  return HPE_PAUSED;
}

void ServerConnection::respond(std::shared_ptr<Stream> stream, ResponseHead head,
                               std::shared_ptr<BodyPipe> body) {
  const RequestHead& req = stream->request;
  bool no_body = req.method == "HEAD" || head.status == 204 || head.status == 304 ||
                 (head.status >= 100 && head.status < 200);
  Framing framing = Framing::kNone;
  if (!no_body) {
    if (head.content_length >= 0)
      framing = Framing::kLength;
    else if (!req.http10)
      framing = Framing::kChunked;
    else
      framing = Framing::kClose, closing_ = true;
  }
  if (head.status == 101) upgraded_ = true;
  head_out_.clear();
  appendResponseHead(head_out_, head, framing, closing_ && !upgraded_, req.http10);
  if (no_body) body.reset();
  // Mostly the whole response is at hand (a small body comes with its head) and the socket
  // takes it at once: then it is written here, with no coroutine.
  if (!closing_ && !upgraded_ && (!body || body->ended())) {
    if (body) {
      char chunk[16384];
      while (size_t n = body->read(chunk, sizeof(chunk)))
        appendBody(head_out_, std::string_view(chunk, n), framing);
      if (framing == Framing::kChunked) head_out_ += "0\r\n\r\n";
      body.reset();
    }
    std::error_code ec;
    size_t sent = transport_->writeNow(asio::buffer(head_out_), ec);
    if (ec) {
      stream->reset();
      return;
    }
    bump(Stats::get().downstream_bytes_tx, sent);
    if (sent == head_out_.size()) {
      Stats::get().countResponse(head.status);
      stream->finish();
      return;
    }
    head_out_.erase(0, sent);
  }
  asio::co_spawn(executor_,
                 writeResponse(std::move(stream), std::move(head_out_), std::move(body),
                               static_cast<int>(framing), head.status),
                 asio::detached);
}

asio::awaitable<void> ServerConnection::writeResponse(std::shared_ptr<Stream> stream,
                                                      std::string out,
                                                      std::shared_ptr<BodyPipe> body,
                                                      int framing_value, int status) {
  auto self = shared_from_this();
  auto framing = static_cast<Framing>(framing_value);
  std::error_code ec;
  char chunk[16384];
  for (;;) {
    if (body) {
      size_t n = body->read(chunk, sizeof(chunk));
      if (n) appendBody(out, std::string_view(chunk, n), framing);
      if (body->drained()) {
        if (framing == Framing::kChunked) out += "0\r\n\r\n";
        body.reset();
      } else if (body->aborted()) {
        // The upstream broke off mid-body; only closing tells an HTTP/1 client.
        closing_ = true;
        if (!out.empty()) co_await transport_->writeAll(asio::buffer(out), ec);
        stream->reset();
        co_return;
      }
    }
    if (!out.empty()) {
      bump(Stats::get().downstream_bytes_tx, out.size());
      co_await transport_->writeAll(asio::buffer(out), ec);
      out.clear();
      if (ec) {
        stream->reset();
        co_return;
      }
    }
    if (!body) break;
    if (body->size() == 0 && !body->ended() && !body->aborted()) {
      Event ready(executor_);
      body->on_readable = [&ready] { ready.notify(); };
      co_await ready.wait();
      body->on_readable = nullptr;
    }
  }
  Stats::get().countResponse(status);
  if (closing_ && !upgraded_) {
    if (transport_) co_await transport_->shutdownSend();
  }
  stream->finish();
}

asio::awaitable<void> ServerConnection::writeSimple(int status, const std::string& body) {
  ResponseHead head;
  head.status = status;
  head.headers.emplace_back("content-type", "text/plain");
  head.content_length = static_cast<long long>(body.size() + 1);
  std::string out;
  appendResponseHead(out, head, Framing::kLength, true, false);
  out += body;
  out += '\n';
  Stats::get().countResponse(status);
  std::error_code ec;
  co_await transport_->writeAll(asio::buffer(out), ec);
}

}  // namespace meshnode::proxy::http1
