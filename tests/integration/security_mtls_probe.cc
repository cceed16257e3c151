// A blocking mesh-mTLS endpoint for the integration tests: it serves or dials one connection at
// a time with the contexts security/ builds, so openssl s_client and s_server can be matched
// against them as real peers. Prints one line per connection: "accepted ..." / "connected ..."
// or "refused: <reason>".
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "security/mtls_context.h"

using namespace meshnode;
using namespace meshnode::security;

namespace {

struct Args {
  std::string mode, dir, sni, expect_id, allow_td;
  int port = 0;
  int connections = 1;
  std::vector<std::string> alpn;
};

std::vector<std::string> splitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t c = s.find(',');
    out.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

std::string reasonOf(SSL* ssl) {
  std::string reason = peerRejectionReason(ssl);
  if (!reason.empty()) return reason;
  Error e = ossl::lastError("handshake", ErrorCode::kRefused, Side::kDownstream);
  return e.detail;
}

int serve(const Args& a, const WorkloadIdentity& id) {
  MtlsServerOptions o;
  if (!a.allow_td.empty()) {
    auto allowed = std::make_shared<AllowedPeers>();
    allowed->trust_domains = {a.allow_td};
    o.allowed_peers = allowed;
  }
  auto ctx = makeServerContext(id, o);
  if (!ctx) {
    std::printf("error: %s\n", ctx.error().describe().c_str());
    return 1;
  }
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM, 0));
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(a.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener.get(), 16) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  for (int i = 0; i < a.connections; ++i) {
    UniqueFd conn(::accept(listener.get(), nullptr, nullptr));
    if (!conn.valid()) continue;
    ossl::SslPtr ssl(SSL_new(ctx->get()));
    SSL_set_fd(ssl.get(), conn.get());
    if (SSL_accept(ssl.get()) != 1) {
      std::printf("refused: %s\n", reasonOf(ssl.get()).c_str());
    } else {
      auto peer = peerIdentity(ssl.get());
      const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
      std::printf("accepted %s alpn=%s sni=%s\n", peer ? peer->uri().c_str() : "?",
                  negotiatedAlpn(ssl.get()).c_str(), sni != nullptr ? sni : "");
      std::string hello = "hello " + (peer ? peer->uri() : std::string("?")) + "\n";
      SSL_write(ssl.get(), hello.data(), static_cast<int>(hello.size()));
      SSL_shutdown(ssl.get());
    }
    ossl::clearErrors();
    std::fflush(stdout);
  }
  return 0;
}

int dial(const Args& a, const WorkloadIdentity& id) {
  MtlsClientOptions o;
  if (!a.alpn.empty()) o.alpn = a.alpn;
  auto ctx = makeClientContext(id, o);
  if (!ctx) {
    std::printf("error: %s\n", ctx.error().describe().c_str());
    return 1;
  }
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(a.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("connect");
    return 1;
  }
  ossl::SslPtr ssl(SSL_new(ctx->get()));
  SSL_set_fd(ssl.get(), fd.get());
  if (!a.sni.empty()) (void)setServerName(ssl.get(), a.sni);
  if (!a.expect_id.empty()) {
    auto expected = std::make_shared<AllowedPeers>();
    expected->spiffe_ids = {a.expect_id};
    (void)setAllowedPeers(ssl.get(), expected);
  }
  if (SSL_connect(ssl.get()) != 1) {
    std::printf("refused: %s\n", reasonOf(ssl.get()).c_str());
    return 2;
  }
  auto peer = peerIdentity(ssl.get());
  std::printf("connected %s alpn=%s\n", peer ? peer->uri().c_str() : "?",
              negotiatedAlpn(ssl.get()).c_str());
  SSL_shutdown(ssl.get());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) return 64;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view f = argv[i];
    std::string v = argv[i + 1];
    if (f == "--dir") a.dir = v;
    if (f == "--port") a.port = std::atoi(v.c_str());
    if (f == "--connections") a.connections = std::atoi(v.c_str());
    if (f == "--sni") a.sni = v;
    if (f == "--expect-id") a.expect_id = v;
    if (f == "--allow-td") a.allow_td = v;
    if (f == "--alpn") a.alpn = splitComma(v);
  }
  auto id =
      WorkloadIdentity::load(IdentityFiles::inDirectory(a.dir), std::chrono::system_clock::now());
  if (!id) {
    std::printf("error: %s\n", id.error().describe().c_str());
    return 1;
  }
  return a.mode == "server" ? serve(a, **id) : dial(a, **id);
}
