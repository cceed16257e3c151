#include "agent/source/http_fetch.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include <llhttp.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include "common/openssl.h"
#include "common/unique_fd.h"

namespace meshnode::agent::source {
namespace {

using Clock = std::chrono::steady_clock;

// A response head larger than this is not a JWKS server's.
constexpr std::size_t kMaxHead = 64 * 1024;

Error fetchError(const std::string& uri, ErrorCode code, const std::string& what,
                 bool retryable = true) {
  return makeError(code, Side::kUpstream, uri + ": " + what, retryable);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Everything one fetch needs to know about time, cancellation and whom to blame.
struct Deadlines {
  const std::string& uri;
  Clock::time_point connect, total;
  int cancel_fd;
};

// Waits until `fd` is ready for `events`, the deadline passes or the fetch is cancelled.
Status waitFor(int fd, short events, Clock::time_point deadline, const Deadlines& d) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fetchError(d.uri, ErrorCode::kTimeout, "timed out");
    pollfd fds[2] = {{fd, events, 0}, {d.cancel_fd, POLLIN, 0}};
    int n = ::poll(fds, d.cancel_fd >= 0 ? 2 : 1, static_cast<int>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fetchError(d.uri, ErrorCode::kIo, std::string("poll: ") + std::strerror(errno));
    }
    if (d.cancel_fd >= 0 && fds[1].revents)
      return fetchError(d.uri, ErrorCode::kIo, "cancelled", false);
    if (n > 0 && fds[0].revents) return {};
  }
}

struct AddrInfoFree {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};

Result<UniqueFd> connectTo(const HttpUri& u, const Deadlines& d) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  std::string port = std::to_string(u.port);
  if (int rc = ::getaddrinfo(u.host.c_str(), port.c_str(), &hints, &raw); rc != 0)
    return fetchError(d.uri, ErrorCode::kNotFound, "resolve " + u.host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, AddrInfoFree> list(raw);
  std::string last = "no address";
  for (addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = std::strerror(errno);
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    if (Status ready = waitFor(fd.get(), POLLOUT, std::min(d.connect, d.total), d); !ready)
      return ready.error();
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    last = std::strerror(err);
  }
  return fetchError(d.uri, ErrorCode::kRefused, "connect " + u.authority() + ": " + last);
}

// A connected socket, with TLS on top for https. Non-blocking; every call waits under the
// fetch's deadline.
class Connection {
 public:
  Connection(UniqueFd fd, const Deadlines& d) : fd_(std::move(fd)), d_(d) {}

  Status startTls(const HttpUri& u, const FetchOptions& options) {
    ossl::clearErrors();
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) return ossl::lastError(d_.uri + ": TLS context");
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    int loaded = options.ca_file.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx_.get())
                     : SSL_CTX_load_verify_locations(ctx_.get(), options.ca_file.c_str(), nullptr);
    if (loaded != 1)
      return ossl::lastError(
          d_.uri + ": trust anchors " +
              (options.ca_file.empty() ? std::string("(system bundle)") : options.ca_file),
          ErrorCode::kInvalidArgument, Side::kConfig);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1)
      return ossl::lastError(d_.uri + ": TLS session");
    // An IP literal is checked against the certificate's IP SANs and sends no SNI (RFC 6066).
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    if (X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str()) != 1) {
      ossl::clearErrors();
      if (SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(u.host.c_str())) != 1 ||
          SSL_set1_host(ssl_.get(), u.host.c_str()) != 1)
        return ossl::lastError(d_.uri + ": TLS server name");
    }
    for (;;) {
      int rc = SSL_connect(ssl_.get());
      if (rc == 1) return {};
      if (Status st = waitSsl(rc, "TLS handshake"); !st) return st;
    }
  }

  Status writeAll(std::string_view data) {
    while (!data.empty()) {
      if (ssl_) {
        std::size_t n = 0;
        int rc = SSL_write_ex(ssl_.get(), data.data(), data.size(), &n);
        if (rc == 1) {
          data.remove_prefix(n);
          continue;
        }
        if (Status st = waitSsl(rc, "TLS write"); !st) return st;
        continue;
      }
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
      } else if (errno == EAGAIN || errno == EINTR) {
        if (Status st = waitFor(fd_.get(), POLLOUT, d_.total, d_); !st) return st;
      } else {
        return fetchError(d_.uri, ErrorCode::kIo, std::string("send: ") + std::strerror(errno));
      }
    }
    return {};
  }

  // Bytes read; 0 at the end of the stream.
  Result<std::size_t> read(char* buffer, std::size_t size) {
    for (;;) {
      if (ssl_) {
        std::size_t n = 0;
        int rc = SSL_read_ex(ssl_.get(), buffer, size, &n);
        if (rc == 1) return n;
        int err = SSL_get_error(ssl_.get(), rc);
        if (err == SSL_ERROR_ZERO_RETURN) return std::size_t{0};
        if (err == SSL_ERROR_SSL &&
            ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
          ossl::clearErrors();
          unclean_eof_ = true;
          return std::size_t{0};
        }
        if (Status st = waitSsl(rc, "TLS read"); !st) return st.error();
        continue;
      }
      ssize_t n = ::recv(fd_.get(), buffer, size, 0);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EAGAIN && errno != EINTR)
        return fetchError(d_.uri, ErrorCode::kReset, std::string("recv: ") + std::strerror(errno));
      if (Status st = waitFor(fd_.get(), POLLIN, d_.total, d_); !st) return st.error();
    }
  }

  // TLS that ended without close_notify: a body delimited by the close may be truncated.
  bool uncleanEof() const { return unclean_eof_; }

 private:
  Status waitSsl(int rc, const char* what) {
    int err = SSL_get_error(ssl_.get(), rc);
    if (err == SSL_ERROR_WANT_READ) return waitFor(fd_.get(), POLLIN, d_.total, d_);
    if (err == SSL_ERROR_WANT_WRITE) return waitFor(fd_.get(), POLLOUT, d_.total, d_);
    if (err == SSL_ERROR_SSL) {
      std::string detail = ossl::errorText();
      long verify = SSL_get_verify_result(ssl_.get());
      if (verify != X509_V_OK)
        detail = std::string("certificate refused: ") + X509_verify_cert_error_string(verify);
      return fetchError(d_.uri, ErrorCode::kProtocol, std::string(what) + ": " + detail);
    }
    ossl::clearErrors();
    return fetchError(d_.uri, ErrorCode::kReset,
                      std::string(what) + ": connection closed" +
                          (errno ? std::string(": ") + std::strerror(errno) : std::string()));
  }

  UniqueFd fd_;
  const Deadlines& d_;
  ossl::SslCtxPtr ctx_;
  ossl::SslPtr ssl_;
  bool unclean_eof_ = false;
};

// The response as llhttp hands it over.
struct Response {
  std::size_t max_body = 0;
  int status = 0;
  bool head_done = false;
  bool complete = false;
  bool too_large = false;
  bool in_location = false;
  std::string field, location, body;

  static Response* of(llhttp_t* p) { return static_cast<Response*>(p->data); }
};

int onHeaderField(llhttp_t* p, const char* at, std::size_t n) {
  Response::of(p)->field.append(at, n);
  return 0;
}
int onHeaderFieldComplete(llhttp_t* p) {
  Response* r = Response::of(p);
  r->in_location = iequals(r->field, "location");
  r->field.clear();
  return 0;
}
int onHeaderValue(llhttp_t* p, const char* at, std::size_t n) {
  Response* r = Response::of(p);
  if (r->in_location) r->location.append(at, n);
  return 0;
}
int onHeadersComplete(llhttp_t* p) {
  Response* r = Response::of(p);
  r->status = p->status_code;
  r->head_done = true;
  return 0;
}
int onBody(llhttp_t* p, const char* at, std::size_t n) {
  Response* r = Response::of(p);
  if (r->status != 200) return 0;
  if (r->body.size() + n > r->max_body) {
    r->too_large = true;
    return HPE_USER;
  }
  r->body.append(at, n);
  return 0;
}
int onMessageComplete(llhttp_t* p) {
  Response::of(p)->complete = true;
  return 0;
}

Result<Response> getOnce(const std::string& uri, const HttpUri& u, const FetchOptions& options,
                         const Deadlines& d) {
  auto fd = connectTo(u, d);
  if (!fd) return std::move(fd).takeError();
  Connection conn(std::move(fd).value(), d);
  if (u.tls)
    if (Status st = conn.startTls(u, options); !st) return std::move(st).takeError();
  std::string request = "GET " + u.target + " HTTP/1.1\r\nHost: " + u.authority() +
                        "\r\nAccept: application/json\r\nUser-Agent: meshnode-agent\r\n"
                        "Connection: close\r\n\r\n";
  if (Status st = conn.writeAll(request); !st) return std::move(st).takeError();

  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_header_field = onHeaderField;
  settings.on_header_field_complete = onHeaderFieldComplete;
  settings.on_header_value = onHeaderValue;
  settings.on_headers_complete = onHeadersComplete;
  settings.on_body = onBody;
  settings.on_message_complete = onMessageComplete;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_RESPONSE, &settings);
  Response response;
  response.max_body = options.max_body;
  parser.data = &response;

  char buffer[16 * 1024];
  std::size_t head_bytes = 0;
  while (!response.complete) {
    auto n = conn.read(buffer, sizeof buffer);
    if (!n) return std::move(n).takeError();
    llhttp_errno_t err;
    if (*n == 0) {
      if (!response.head_done)
        return fetchError(uri, ErrorCode::kReset, "connection closed before a response");
      if (conn.uncleanEof())
        return fetchError(uri, ErrorCode::kReset, "TLS closed without close_notify");
      err = llhttp_finish(&parser);
    } else {
      err = llhttp_execute(&parser, buffer, *n);
    }
    if (response.too_large)
      return fetchError(uri, ErrorCode::kLimit,
                        "body larger than " + std::to_string(options.max_body) + " bytes", false);
    if (err != HPE_OK)
      return fetchError(uri, ErrorCode::kProtocol,
                        std::string("bad HTTP response: ") + llhttp_errno_name(err));
    if (response.head_done && response.status != 200) break;  // the body is not wanted
    if (!response.head_done && (head_bytes += *n) > kMaxHead)
      return fetchError(uri, ErrorCode::kLimit, "response head too large", false);
    if (*n == 0 && !response.complete)
      return fetchError(uri, ErrorCode::kReset, "connection closed inside the body");
  }
  return response;
}

bool isRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::string HttpUri::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (tls && port == 443) || (!tls && port == 80);
  return default_port ? h : h + ":" + std::to_string(port);
}

Result<HttpUri> parseHttpUri(const std::string& uri) {
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig, uri + ": " + why);
  };
  HttpUri u;
  std::string_view rest = uri;
  if (rest.starts_with("https://")) {
    u.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad("not an http or https URI");
  }
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    u.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after the IPv6 literal");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    std::size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (u.host.empty()) return bad("no host");
  u.port = u.tls ? 443 : 80;
  if (has_port) {
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return bad("bad port");
      value = value * 10 + (c - '0');
    }
    if (value == 0 || value > 65535) return bad("bad port");
    u.port = value;
  }
  u.target = target.empty() || target[0] == '?' ? "/" + std::string(target) : std::string(target);
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad("space or control character");
  return u;
}

Result<std::string> fetchHttp(const std::string& uri, const FetchOptions& options, int cancel_fd) {
  auto start = Clock::now();
  auto parsed = parseHttpUri(uri);
  if (!parsed) return std::move(parsed).takeError();
  HttpUri u = std::move(parsed).value();
  for (int redirects = 0;; ++redirects) {
    Deadlines d{uri, Clock::now() + options.connect_timeout, start + options.total_timeout,
                cancel_fd};
    auto response = getOnce(uri, u, options, d);
    if (!response) return std::move(response).takeError();
    if (response->status == 200) return std::move(response->body);
    if (!isRedirect(response->status) || response->location.empty())
      return fetchError(uri, ErrorCode::kRefused,
                        "HTTP status " + std::to_string(response->status));
    if (redirects >= options.max_redirects)
      return fetchError(uri, ErrorCode::kLimit,
                        "more than " + std::to_string(options.max_redirects) + " redirects", false);
    std::string location = response->location;
    if (location.starts_with("/") && !location.starts_with("//"))
      location = (u.tls ? "https://" : "http://") + u.authority() + location;
    auto next = parseHttpUri(location);
    if (!next)
      return fetchError(uri, ErrorCode::kProtocol, "redirect to " + next.error().detail, false);
    if (u.tls && !next->tls)
      return fetchError(uri, ErrorCode::kRefused, "redirect from https to http refused", false);
    u = std::move(next).value();
  }
}

}  // namespace meshnode::agent::source
