#include "agent/health/probe_stream.h"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>

#include "common/openssl.h"

namespace meshnode::agent {
namespace {

Error failed(const std::string& what) {
  return makeError(ErrorCode::kIo, Side::kUpstream, what, true);
}

int millisLeft(ProbeStream::Clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ProbeStream::Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

Result<ProbeStream> ProbeStream::open(UniqueFd fd, bool tls, Clock::time_point deadline) {
  ProbeStream s;
  s.fd_ = std::move(fd);
  if (!tls) return s;
  s.ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!s.ctx_) return failed("TLS: " + ossl::errorText());
  SSL_CTX_set_verify(s.ctx_.get(), SSL_VERIFY_NONE, nullptr);
  s.ssl_.reset(SSL_new(s.ctx_.get()));
  if (!s.ssl_ || SSL_set_fd(s.ssl_.get(), s.fd_.get()) != 1)
    return failed("TLS: " + ossl::errorText());
  for (;;) {
    int rc = SSL_connect(s.ssl_.get());
    if (rc == 1) break;
    if (Status st = s.tlsRetry(rc, deadline, "TLS handshake"); !st) {
      return std::move(st).takeError();
    }
  }
  return s;
}

Status ProbeStream::wait(short events, Clock::time_point deadline, const char* doing) {
  pollfd p{fd_.get(), events, 0};
  int n = ::poll(&p, 1, millisLeft(deadline));
  if (n == 0) return failed(std::string("timed out ") + doing);
  if (n < 0 && errno != EINTR) return failed(std::string(doing) + ": " + std::strerror(errno));
  return {};
}

Status ProbeStream::tlsRetry(int rc, Clock::time_point deadline, const char* doing) {
  switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      return wait(POLLIN, deadline, doing);
    case SSL_ERROR_WANT_WRITE:
      return wait(POLLOUT, deadline, doing);
    case SSL_ERROR_ZERO_RETURN:
      return failed(std::string(doing) + ": connection closed");
    case SSL_ERROR_SYSCALL:
      return failed(std::string(doing) + ": " +
                    (errno != 0 ? std::strerror(errno) : "connection closed"));
    default:
      return failed(std::string(doing) + ": " + ossl::errorText());
  }
}

Status ProbeStream::sendAll(std::string_view data, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    if (ssl_) {
      int rc = SSL_write(ssl_.get(), data.data() + sent, static_cast<int>(data.size() - sent));
      if (rc > 0) {
        sent += static_cast<size_t>(rc);
      } else if (Status s = tlsRetry(rc, deadline, "sending"); !s) {
        return s;
      }
      continue;
    }
    ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EINTR) {
      if (Status s = wait(POLLOUT, deadline, "sending"); !s) return s;
    } else {
      return failed(std::string("sending: ") + std::strerror(errno));
    }
  }
  return {};
}

Result<size_t> ProbeStream::recvSome(char* buf, size_t len, Clock::time_point deadline) {
  for (;;) {
    if (ssl_) {
      int rc = SSL_read(ssl_.get(), buf, static_cast<int>(len));
      if (rc > 0) return static_cast<size_t>(rc);
      int err = SSL_get_error(ssl_.get(), rc);
      if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
      if (Status s = tlsRetry(rc, deadline, "waiting for the response"); !s) {
        return std::move(s).takeError();
      }
      continue;
    }
    ssize_t n = ::recv(fd_.get(), buf, len, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EAGAIN && errno != EINTR) {
      return failed(std::string("reading: ") + std::strerror(errno));
    }
    if (Status s = wait(POLLIN, deadline, "waiting for the response"); !s) {
      return std::move(s).takeError();
    }
  }
}

}  // namespace meshnode::agent
