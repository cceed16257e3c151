#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include "agent/health/probe_runner.h"
#include "common/unique_fd.h"

namespace meshnode::agent {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};

// An HTTPS server on loopback with a fresh self-signed certificate, answering `status`.
class TinyHttpsServer {
 public:
  explicit TinyHttpsServer(int status) : status_(status) {
    std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
    std::unique_ptr<X509, CertFree> cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("workload"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_sign(cert.get(), key.get(), EVP_sha256());
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(ctx_.get(), cert.get());
    SSL_CTX_use_PrivateKey(ctx_.get(), key.get());

    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    ::listen(fd_.get(), 8);
    socklen_t len = sizeof(sin);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TinyHttpsServer() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      UniqueFd c(::accept(fd_.get(), nullptr, nullptr));
      timeval tv{2, 0};
      ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx_.get()));
      SSL_set_fd(ssl.get(), c.get());
      if (SSL_accept(ssl.get()) != 1) continue;
      std::string req;
      char buf[2048];
      while (req.find("\r\n\r\n") == std::string::npos) {
        int n = SSL_read(ssl.get(), buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string resp = "HTTP/1.1 " + std::to_string(status_) +
                         " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      SSL_write(ssl.get(), resp.data(), static_cast<int>(resp.size()));
      SSL_shutdown(ssl.get());
    }
  }

  int status_;
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Probe httpsProbe(uint16_t port) {
  Probe p;
  HttpGetAction a;
  a.port = port;
  a.path = "/ready";
  a.scheme = "HTTPS";
  p.action = a;
  return p;
}

TEST(ProbeHttpsTest, SelfSignedWorkloadIsProbedWithoutVerification) {
  TinyHttpsServer server(200);
  ProbeOutcome o = runProbeOnce(httpsProbe(server.port()), "127.0.0.1");
  EXPECT_TRUE(o.success) << o.message;
  EXPECT_NE(o.message.find("https://127.0.0.1:"), std::string::npos) << o.message;
}

TEST(ProbeHttpsTest, ErrorStatusOverTlsFails) {
  TinyHttpsServer server(500);
  ProbeOutcome o = runProbeOnce(httpsProbe(server.port()), "127.0.0.1");
  EXPECT_FALSE(o.success);
  EXPECT_NE(o.message.find("status 500"), std::string::npos) << o.message;
}

TEST(ProbeHttpsTest, PlainHttpServerFailsTheHandshake) {
  // A listener that accepts and answers nothing TLS understands.
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
  ::listen(fd.get(), 8);
  socklen_t len = sizeof(sin);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  std::thread peer([&] {
    UniqueFd c(::accept(fd.get(), nullptr, nullptr));
    const char junk[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
    ::send(c.get(), junk, sizeof(junk) - 1, MSG_NOSIGNAL);
  });
  ProbeOutcome o = runProbeOnce(httpsProbe(ntohs(sin.sin_port)), "127.0.0.1");
  peer.join();
  EXPECT_FALSE(o.success);
  EXPECT_NE(o.message.find("TLS handshake"), std::string::npos) << o.message;
}

}  // namespace
}  // namespace meshnode::agent
