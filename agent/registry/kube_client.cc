#include "agent/registry/kube_client.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include <arpa/inet.h>
#include <llhttp.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include "common/file.h"
#include "common/openssl.h"
#include "common/unique_fd.h"

namespace meshnode::agent {
namespace {

using Clock = std::chrono::steady_clock;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct AddrInfoFree {
  void operator()(addrinfo* a) const { ::freeaddrinfo(a); }
};

Error apiError(const std::string& what, bool retryable = true) {
  return makeError(ErrorCode::kIo, Side::kUpstream, "kubernetes API: " + what, retryable);
}

bool isAddress(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// One TLS connection to the API server.
class Connection {
 public:
  static Result<Connection> open(const std::string& host, uint16_t port, const std::string& ca_file,
                                 Clock::time_point deadline) {
    Connection c;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port_text = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
      return apiError("resolve " + host + ": " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, AddrInfoFree> addrs(found);
    std::string why = "no address";
    for (addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
      UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
      if (!fd.valid()) continue;
      timeval tv{
          std::max<long>(
              1, std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count()),
          0};
      // Bounds connect() and the TLS handshake; reads after it wait in poll().
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
        c.fd_ = std::move(fd);
        break;
      }
      why = std::strerror(errno);
    }
    if (!c.fd_.valid()) return apiError("connect " + host + ":" + port_text + ": " + why);

    c.ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!c.ctx_) return apiError(ossl::errorText());
    SSL_CTX_set_min_proto_version(c.ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(c.ctx_.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(c.ctx_.get(), ca_file.c_str(), nullptr) != 1) {
      return apiError("CA bundle " + ca_file + ": " + ossl::errorText(), false);
    }
    c.ssl_.reset(SSL_new(c.ctx_.get()));
    if (!c.ssl_ || SSL_set_fd(c.ssl_.get(), c.fd_.get()) != 1) return apiError(ossl::errorText());
    X509_VERIFY_PARAM* param = SSL_get0_param(c.ssl_.get());
    if (isAddress(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
      SSL_ctrl(c.ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(host.c_str()));
    }
    if (SSL_connect(c.ssl_.get()) != 1) {
      return apiError("TLS handshake with " + host + ": " + ossl::errorText());
    }
    return c;
  }

  Status write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      int n = SSL_write(ssl_.get(), data.data() + off, static_cast<int>(data.size() - off));
      if (n <= 0) return apiError("write: " + ossl::errorText());
      off += static_cast<size_t>(n);
    }
    return {};
  }

  // Bytes read; 0 at the end of the stream; kTimeout when nothing came within `wait`.
  Result<size_t> read(char* buf, size_t len, std::chrono::milliseconds wait) {
    if (SSL_pending(ssl_.get()) == 0) {
      pollfd p{fd_.get(), POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(wait.count()));
      if (n == 0) return makeError(ErrorCode::kTimeout, Side::kUpstream, "read timed out", true);
    }
    int n = SSL_read(ssl_.get(), buf, static_cast<int>(len));
    if (n > 0) return static_cast<size_t>(n);
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
      return size_t{0};
    }
    return apiError("read: " + ossl::errorText());
  }

 private:
  Connection() = default;

  UniqueFd fd_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

// Feeds response bytes to llhttp and collects status and body (chunked or not).
class ResponseReader {
 public:
  explicit ResponseReader(std::function<bool(std::string_view)> on_body)
      : on_body_(std::move(on_body)) {
    llhttp_settings_init(&settings_);
    settings_.on_body = [](llhttp_t* p, const char* at, size_t len) -> int {
      auto* self = static_cast<ResponseReader*>(p->data);
      return self->on_body_(std::string_view(at, len)) ? 0 : HPE_PAUSED;
    };
    settings_.on_message_complete = [](llhttp_t* p) -> int {
      static_cast<ResponseReader*>(p->data)->complete_ = true;
      return HPE_PAUSED;
    };
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
  }
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // False with an error once the response is malformed.
  Status feed(const char* data, size_t len) {
    llhttp_errno_t rc = llhttp_execute(&parser_, data, len);
    if (rc == HPE_OK || rc == HPE_PAUSED) {
      stopped_ = rc == HPE_PAUSED;
      return {};
    }
    return makeError(
        ErrorCode::kProtocol, Side::kUpstream,
        std::string("kubernetes API: bad HTTP response: ") + llhttp_get_error_reason(&parser_));
  }
  void finish() { llhttp_finish(&parser_); }
  bool done() const { return complete_ || stopped_; }
  bool complete() const { return complete_; }
  int status() { return llhttp_get_status_code(&parser_); }

 private:
  std::function<bool(std::string_view)> on_body_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  bool complete_ = false;
  bool stopped_ = false;
};

}  // namespace

Result<KubeClient> KubeClient::create(const std::string& api_server, std::string token_file,
                                      std::string ca_file) {
  if (api_server.rfind("https://", 0) != 0) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "api server \"" + api_server + "\" is not an https:// URL");
  }
  std::string rest = api_server.substr(8);
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  KubeClient c;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "bad api server " + api_server);
    }
    c.host_ = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
  } else {
    auto colon = rest.find(':');
    c.host_ = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "bad api server " + api_server);
    }
    int port = std::atoi(rest.c_str() + 1);
    if (port < 1 || port > 65535) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "bad port in " + api_server);
    }
    c.port_ = static_cast<uint16_t>(port);
  }
  c.token_file_ = std::move(token_file);
  c.ca_file_ = std::move(ca_file);
  return c;
}

Result<KubeResponse> KubeClient::request(std::string_view method, const std::string& path,
                                         const std::string& body,
                                         std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto token = readFile(token_file_);
  if (!token.ok()) return std::move(token).takeError();
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r'))
    token->pop_back();
  auto conn = Connection::open(host_, port_, ca_file_, deadline);
  if (!conn.ok()) return std::move(conn).takeError();

  std::string req = std::string(method) + " " + path + " HTTP/1.1\r\nHost: " + host_ +
                    "\r\nAuthorization: Bearer " + *token +
                    "\r\nAccept: application/json\r\nUser-Agent: meshnode-agent\r\n"
                    "Connection: close\r\n";
  if (!body.empty() || method != "GET") {
    req += std::string("Content-Type: ") +
           (method == "PATCH" ? "application/merge-patch+json" : "application/json") +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (Status s = conn->write(req); !s) return std::move(s).takeError();

  KubeResponse out;
  ResponseReader reader([&](std::string_view chunk) {
    // API objects are small; a body past this is not one.
    if (out.body.size() + chunk.size() > 16 * 1024 * 1024) return false;
    out.body.append(chunk);
    return true;
  });
  char buf[16384];
  while (!reader.done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return apiError(std::string(method) + " " + path + ": timed out");
    auto n = conn->read(buf, sizeof(buf), left);
    if (!n.ok()) return std::move(n).takeError();
    if (*n == 0) {
      reader.finish();
      break;
    }
    if (Status s = reader.feed(buf, *n); !s) return std::move(s).takeError();
  }
  if (!reader.complete())
    return apiError(std::string(method) + " " + path + ": response cut short");
  out.status = reader.status();
  return out;
}

Status KubeClient::stream(const std::string& path,
                          const std::function<bool(std::string_view)>& on_line,
                          const std::atomic<bool>& stop) {
  auto token = readFile(token_file_);
  if (!token.ok()) return std::move(token).takeError();
  while (!token->empty() && (token->back() == '\n' || token->back() == '\r'))
    token->pop_back();
  auto conn = Connection::open(host_, port_, ca_file_, Clock::now() + std::chrono::seconds(10));
  if (!conn.ok()) return std::move(conn).takeError();
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nAuthorization: Bearer " +
                    *token +
                    "\r\nAccept: application/json\r\nUser-Agent: meshnode-agent\r\n"
                    "Connection: close\r\n\r\n";
  if (Status s = conn->write(req); !s) return s;

  std::string pending;
  bool keep_going = true;
  std::string error_body;
  int status = 0;
  ResponseReader* reader_ptr = nullptr;
  ResponseReader reader([&](std::string_view chunk) {
    if (status == 0) status = reader_ptr->status();
    if (status != 200) {
      if (error_body.size() < 4096) error_body.append(chunk);
      return true;
    }
    pending.append(chunk);
    if (pending.size() > 16 * 1024 * 1024) return keep_going = false;
    size_t nl;
    while (keep_going && (nl = pending.find('\n')) != std::string::npos) {
      keep_going = on_line(std::string_view(pending.data(), nl));
      pending.erase(0, nl + 1);
    }
    return keep_going;
  });
  reader_ptr = &reader;
  char buf[16384];
  while (!reader.done() && !stop.load()) {
    auto n = conn->read(buf, sizeof(buf), std::chrono::milliseconds(200));
    if (!n.ok()) {
      if (n.error().code == ErrorCode::kTimeout) continue;
      return std::move(n).takeError();
    }
    if (*n == 0) break;
    if (Status s = reader.feed(buf, *n); !s) return s;
  }
  if (status == 0) status = reader.status();
  if (status != 200 && status != 0) {
    return apiError("watch " + path + ": HTTP " + std::to_string(status) + " " + error_body,
                    status >= 500 || status == 429);
  }
  return {};
}

}  // namespace meshnode::agent
