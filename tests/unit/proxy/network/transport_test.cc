#include "proxy/network/transport.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "security/mtls_context.h"
#include "security/workload_identity.h"
#include "tests/unit/security/test_pki.h"

namespace meshnode::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using security::testing::forId;
using security::testing::issue;
using security::testing::makeRoot;
using security::testing::toPem;

std::shared_ptr<const security::WorkloadIdentity> identity(const security::RootCa& root,
                                                           const std::string& sa,
                                                           const std::string& td = "") {
  auto pem = toPem(issue(root, forId("foo", sa, td.empty() ? "cluster.local" : td)), root);
  auto id = security::WorkloadIdentity::fromPem(pem.chain, pem.key, pem.root,
                                                security::testing::now(), "test");
  EXPECT_TRUE(id.ok()) << id.error().describe();
  return *id;
}

// A connected pair of loopback sockets, TLS on top, driven to completion in one io_context.
struct Pair {
  asio::io_context io;
  security::RootCa root = makeRoot();
  std::shared_ptr<const security::WorkloadIdentity> server_id = identity(root, "httpbin");
  std::shared_ptr<const security::WorkloadIdentity> client_id = identity(root, "sleep");
  tcp::socket server{io}, client{io};

  Pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client.connect(acceptor.local_endpoint());
    server = acceptor.accept();
  }

  ossl::SslPtr serverSsl() {
    auto ctx = security::makeServerContext(*server_id, {});
    EXPECT_TRUE(ctx.ok());
    return ossl::SslPtr(SSL_new(ctx->get()));
  }
  ossl::SslPtr clientSsl(const security::WorkloadIdentity& id, std::vector<std::string> alpn) {
    auto ctx = security::makeClientContext(id, {});
    EXPECT_TRUE(ctx.ok());
    ossl::SslPtr ssl(SSL_new(ctx->get()));
    EXPECT_TRUE(security::setClientAlpn(ssl.get(), alpn).ok());
    return ssl;
  }

  // Both handshakes, the server after reading the ClientHello's first bytes itself, as the
  // protocol sniffer does.
  std::pair<Result<TransportPtr>, Result<TransportPtr>> handshake(ossl::SslPtr client_ssl) {
    std::optional<Result<TransportPtr>> s, c;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          std::string hello(5, '\0');
          co_await asio::async_read(server, asio::buffer(hello), asio::use_awaitable);
          s = co_await acceptTls(std::move(server), hello, serverSsl(), Millis(5000));
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          c = co_await connectTls(std::move(client), std::move(client_ssl), Millis(5000));
        },
        asio::detached);
    io.run();
    io.restart();
    return {std::move(*s), std::move(*c)};
  }
};

TEST(TransportTest, MeshHandshakeNegotiatesAlpnAndVerifiesBothPeers) {
  Pair p;
  auto [s, c] = p.handshake(p.clientSsl(*p.client_id, security::meshAlpnForHttp2()));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(security::negotiatedAlpn((*s)->ssl()), "istio-h2");
  auto peer = security::peerIdentity((*s)->ssl());
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(peer->uri(), "spiffe://cluster.local/ns/foo/sa/sleep");
  auto server_peer = security::peerIdentity((*c)->ssl());
  ASSERT_TRUE(server_peer.ok());
  EXPECT_EQ(server_peer->uri(), "spiffe://cluster.local/ns/foo/sa/httpbin");
}

TEST(TransportTest, ServerRefusesAPeerOfAnotherTrustDomainWithTheReason) {
  Pair p;
  auto stranger = identity(makeRoot("evil.example"), "sleep", "evil.example");
  auto [s, c] = p.handshake(p.clientSsl(*stranger, security::meshAlpnForHttp11()));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("TLS handshake (server)"), std::string::npos) << s.error().detail;
}

// A reader and a writer on each side at the same time, as HTTP/2 and the TCP relay run: a
// megabyte each way arrives intact and in order, and a half-close reaches the peer as EOF.
TEST(TransportTest, ConcurrentReadAndWriteBothWaysThenHalfClose) {
  Pair p;
  auto [s, c] = p.handshake(p.clientSsl(*p.client_id, security::meshAlpnForTcp()));
  ASSERT_TRUE(s.ok() && c.ok());
  TransportPtr server = std::move(*s), client = std::move(*c);
  std::string to_server(1 << 20, '\0'), to_client(1 << 20, '\0');
  for (size_t i = 0; i < to_server.size(); ++i) {
    to_server[i] = static_cast<char>(i * 7);
    to_client[i] = static_cast<char>(i * 13);
  }
  auto send = [](Transport& t, const std::string& data) -> asio::awaitable<void> {
    std::error_code ec;
    for (size_t off = 0; off < data.size() && !ec; off += 10000)
      co_await t.writeAll(
          asio::buffer(data.data() + off, std::min<size_t>(10000, data.size() - off)), ec);
    EXPECT_FALSE(ec) << ec.message();
    co_await t.shutdownSend();
  };
  auto receive = [](Transport& t, std::string* out) -> asio::awaitable<void> {
    char buf[4096];
    for (;;) {
      std::error_code ec;
      size_t n = co_await t.readSome(asio::buffer(buf), ec);
      if (ec) {
        EXPECT_EQ(ec, asio::error::eof) << ec.message();
        break;
      }
      out->append(buf, n);
    }
  };
  std::string got_server, got_client;
  asio::co_spawn(p.io, send(*client, to_server) && receive(*client, &got_client), asio::detached);
  asio::co_spawn(p.io, send(*server, to_client) && receive(*server, &got_server), asio::detached);
  p.io.run();
  EXPECT_TRUE(got_server == to_server) << got_server.size();
  EXPECT_TRUE(got_client == to_client) << got_client.size();
}

TEST(TransportTest, PlainTcpPassesBytesAndEof) {
  Pair p;
  TransportPtr server = makeTcpTransport(std::move(p.server));
  TransportPtr client = makeTcpTransport(std::move(p.client));
  std::string got;
  asio::co_spawn(
      p.io,
      [&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await client->writeAll(asio::buffer(std::string("hello")), ec);
        co_await client->shutdownSend();
        char buf[16];
        for (;;) {
          size_t n = co_await server->readSome(asio::buffer(buf), ec);
          if (ec) break;
          got.append(buf, n);
        }
        EXPECT_EQ(ec, asio::error::eof);
      },
      asio::detached);
  p.io.run();
  EXPECT_EQ(got, "hello");
}

}  // namespace
}  // namespace meshnode::proxy
