#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::agent {

// A connected probe socket, plain or TLS, read and written with a deadline. TLS follows
// Kubernetes' HTTPS probes: the certificate is not verified, since the probe asks whether the
// workload answers, not who it is. Probe hosts are addresses, so no SNI is sent. Used on the
// prober's thread only.
class ProbeStream {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<ProbeStream> open(UniqueFd fd, bool tls, Clock::time_point deadline);

  Status sendAll(std::string_view data, Clock::time_point deadline);
  // Bytes read into `buf`; 0 when the peer closed.
  Result<size_t> recvSome(char* buf, size_t len, Clock::time_point deadline);

 private:
  struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };

  // Waits until the socket is ready for what TLS (or the plain socket) wants next.
  Status wait(short events, Clock::time_point deadline, const char* doing);
  // Maps an SSL_* return to: retry after waiting (ok), or the Error that ends the probe.
  Status tlsRetry(int rc, Clock::time_point deadline, const char* doing);

  UniqueFd fd_;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace meshnode::agent
