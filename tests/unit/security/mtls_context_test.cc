#include "security/mtls_context.h"

#include <gtest/gtest.h>

#include "security/sni.h"
#include "tests/unit/security/handshake.h"
#include "tests/unit/security/test_pki.h"

namespace meshnode::security {
namespace {

using namespace testing;

std::shared_ptr<const WorkloadIdentity> identity(const RootCa& root, const IssuedCert& issued) {
  Pem pem = toPem(issued, root);
  auto id = WorkloadIdentity::fromPem(pem.chain, pem.key, pem.root, now(), "test");
  EXPECT_TRUE(id.ok()) << id.error().describe();
  return id.ok() ? *id : nullptr;
}

struct Mesh {
  RootCa root = makeRoot();
  std::shared_ptr<const WorkloadIdentity> server_id =
      identity(root, issue(root, forId("foo", "httpbin")));
  std::shared_ptr<const WorkloadIdentity> client_id =
      identity(root, issue(root, forId("foo", "sleep")));

  ossl::SslCtxPtr serverCtx(MtlsServerOptions o = {}) {
    auto ctx = makeServerContext(*server_id, o);
    EXPECT_TRUE(ctx.ok()) << ctx.error().describe();
    return std::move(ctx).value();
  }
  ossl::SslCtxPtr clientCtx(const WorkloadIdentity& id, MtlsClientOptions o = {}) {
    auto ctx = makeClientContext(id, o);
    EXPECT_TRUE(ctx.ok()) << ctx.error().describe();
    return std::move(ctx).value();
  }
};

// A client that trusts anything, as a probing openssl s_client would: only the server's
// checks are exercised.
ossl::SslCtxPtr lenientClient(const IssuedCert& issued) {
  ossl::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_use_certificate(ctx.get(), issued.cert.get());
  SSL_CTX_use_PrivateKey(ctx.get(), issued.key.get());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  return ctx;
}

TEST(MtlsContext, MeshPeersSeeEachOthersIdentityAlpnAndSni) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  MtlsClientOptions co;
  co.alpn = meshAlpnForHttp2();
  auto client = mesh.clientCtx(*mesh.client_id, co);
  Handshake hs(client.get(), server.get());
  std::string sni = outboundSni(8000, "", "httpbin.foo.svc.cluster.local");
  ASSERT_TRUE(setServerName(hs.client.get(), sni).ok());
  ASSERT_TRUE(hs.run());

  auto seen_by_server = peerIdentity(hs.server.get());
  ASSERT_TRUE(seen_by_server.ok()) << seen_by_server.error().describe();
  EXPECT_EQ(seen_by_server->uri(), "spiffe://cluster.local/ns/foo/sa/sleep");
  auto seen_by_client = peerIdentity(hs.client.get());
  ASSERT_TRUE(seen_by_client.ok());
  EXPECT_EQ(seen_by_client->uri(), "spiffe://cluster.local/ns/foo/sa/httpbin");
  EXPECT_EQ(negotiatedAlpn(hs.server.get()), "istio-h2");
  EXPECT_EQ(appProtocolOfAlpn(negotiatedAlpn(hs.client.get())), AppProtocol::kHttp2);
  EXPECT_EQ(std::string(SSL_get_servername(hs.server.get(), TLSEXT_NAMETYPE_host_name)), sni);

  auto xfcc = forwardedClientCert(hs.server.get(), mesh.server_id->id());
  ASSERT_TRUE(xfcc.ok());
  EXPECT_EQ(xfcc->rfind("By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=", 0), 0u) << *xfcc;
  EXPECT_NE(xfcc->find(";Subject=\"\";URI=spiffe://cluster.local/ns/foo/sa/sleep"),
            std::string::npos)
      << *xfcc;
}

TEST(MtlsContext, PerConnectionAlpnForHttp11AndTcp) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  auto client = mesh.clientCtx(*mesh.client_id);
  Handshake http11(client.get(), server.get());
  ASSERT_TRUE(http11.run());
  EXPECT_EQ(negotiatedAlpn(http11.server.get()), "istio-http/1.1");
  Handshake tcp(client.get(), server.get());
  ASSERT_TRUE(setClientAlpn(tcp.client.get(), meshAlpnForTcp()).ok());
  ASSERT_TRUE(tcp.run());
  EXPECT_EQ(negotiatedAlpn(tcp.server.get()), "istio");
  EXPECT_EQ(appProtocolOfAlpn("istio"), AppProtocol::kOpaque);
}

TEST(MtlsContext, ClientRefusesServerWithUnexpectedServiceAccount) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  auto client = mesh.clientCtx(*mesh.client_id);
  Handshake hs(client.get(), server.get());
  auto expected = std::make_shared<AllowedPeers>();
  expected->spiffe_ids = {"spiffe://cluster.local/ns/foo/sa/reviews"};
  ASSERT_TRUE(setAllowedPeers(hs.client.get(), expected).ok());
  EXPECT_FALSE(hs.run());
  EXPECT_NE(peerRejectionReason(hs.client.get())
                .find("peer spiffe://cluster.local/ns/foo/sa/httpbin is not allowed"),
            std::string::npos)
      << peerRejectionReason(hs.client.get());
}

TEST(MtlsContext, ClientAcceptsServerWithExpectedServiceAccount) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  auto expected = std::make_shared<AllowedPeers>();
  expected->spiffe_ids = {"spiffe://cluster.local/ns/foo/sa/httpbin"};
  MtlsClientOptions co;
  co.allowed_peers = expected;
  auto client = mesh.clientCtx(*mesh.client_id, co);
  Handshake hs(client.get(), server.get());
  EXPECT_TRUE(hs.run());
}

TEST(MtlsContext, ServerRefusesClientOfAnotherTrustDomain) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  auto client = lenientClient(issue(mesh.root, forId("foo", "sleep", "evil.example")));
  Handshake hs(client.get(), server.get());
  EXPECT_FALSE(hs.run());
  EXPECT_NE(peerRejectionReason(hs.server.get()).find("evil.example"), std::string::npos)
      << peerRejectionReason(hs.server.get());
}

TEST(MtlsContext, ServerRefusesClientFromAnotherRoot) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  RootCa other = makeRoot();
  auto client = lenientClient(issue(other, forId("foo", "sleep")));
  Handshake hs(client.get(), server.get());
  EXPECT_FALSE(hs.run());
  EXPECT_NE(peerRejectionReason(hs.server.get()).find("peer certificate:"), std::string::npos);
}

TEST(MtlsContext, ServerRefusesClientWithoutCertificate) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  ossl::SslCtxPtr anonymous(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(anonymous.get(), SSL_VERIFY_NONE, nullptr);
  Handshake hs(anonymous.get(), server.get());
  EXPECT_FALSE(hs.run());
  EXPECT_FALSE(peerIdentity(hs.server.get()).ok());
}

TEST(MtlsContext, ServerRefusesClientWithTwoUriSans) {
  Mesh mesh;
  auto server = mesh.serverCtx();
  // A leaf the identity loader refuses, so it is put into a context by hand.
  auto o = forId("foo", "sleep");
  o.extra_uri_sans = {"spiffe://cluster.local/ns/foo/sa/admin"};
  auto client = lenientClient(issue(mesh.root, o));
  Handshake hs(client.get(), server.get());
  EXPECT_FALSE(hs.run());
  EXPECT_NE(peerRejectionReason(hs.server.get()).find("2 URI SANs"), std::string::npos)
      << peerRejectionReason(hs.server.get());
}

TEST(MtlsContext, RotationKeepsOpenConnectionsOnTheOldContext) {
  Mesh mesh;
  auto old_server = mesh.serverCtx();
  auto client = mesh.clientCtx(*mesh.client_id);
  Handshake in_flight(client.get(), old_server.get());
  // Rotation: a new identity and a new context replace the old one, whose owner lets go.
  mesh.server_id = identity(mesh.root, issue(mesh.root, forId("foo", "httpbin")));
  auto new_server = mesh.serverCtx();
  old_server.reset();
  EXPECT_TRUE(in_flight.run());
  Handshake fresh(client.get(), new_server.get());
  EXPECT_TRUE(fresh.run());
  X509* old_cert = SSL_get0_peer_certificate(in_flight.client.get());
  X509* new_cert = SSL_get0_peer_certificate(fresh.client.get());
  EXPECT_NE(X509_cmp(old_cert, new_cert), 0);
}

}  // namespace
}  // namespace meshnode::security
