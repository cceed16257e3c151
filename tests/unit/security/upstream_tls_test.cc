#include "security/upstream_tls.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/file.h"
#include "security/mtls_context.h"
#include "tests/unit/security/handshake.h"
#include "tests/unit/security/test_pki.h"

namespace meshnode::security {
namespace {

using namespace testing;

TEST(UpstreamTls, DestinationRuleModeWinsOverAutoMtls) {
  std::map<std::string, std::string> sidecar = {{"security.istio.io/tlsMode", "istio"}};
  std::map<std::string, std::string> legacy = {{"app", "db"}};
  EXPECT_EQ(effectiveUpstreamTls(std::nullopt, sidecar), UpstreamTlsMode::kIstioMutual);
  EXPECT_EQ(effectiveUpstreamTls(std::nullopt, legacy), UpstreamTlsMode::kDisable);
  EXPECT_EQ(effectiveUpstreamTls(std::nullopt, sidecar, /*auto_mtls=*/false),
            UpstreamTlsMode::kDisable);
  EXPECT_EQ(effectiveUpstreamTls(UpstreamTlsMode::kDisable, sidecar), UpstreamTlsMode::kDisable);
  EXPECT_EQ(effectiveUpstreamTls(UpstreamTlsMode::kIstioMutual, legacy),
            UpstreamTlsMode::kIstioMutual);
  EXPECT_EQ(parseUpstreamTlsMode("ISTIO_MUTUAL").value(), UpstreamTlsMode::kIstioMutual);
  EXPECT_FALSE(parseUpstreamTlsMode("mutual").ok());
}

class UserTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("meshnode-utls-" + std::to_string(::getpid()));
    ASSERT_TRUE(writeWorkload(dir_ + "/client", issue(root_, forId("foo", "sleep")), root_).ok());
    Pem pem = toPem(issue(root_, forId("foo", "httpbin")), root_);
    auto id = WorkloadIdentity::fromPem(pem.chain, pem.key, pem.root, now(), "server");
    ASSERT_TRUE(id.ok());
    MtlsServerOptions strict;
    auto ctx = makeServerContext(**id, strict);
    ASSERT_TRUE(ctx.ok());
    mutual_server_ = std::move(ctx).value();
    MtlsServerOptions simple;
    simple.require_client_certificate = false;
    ctx = makeServerContext(**id, simple);
    ASSERT_TRUE(ctx.ok());
    simple_server_ = std::move(ctx).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  bool connect(const UserTlsSettings& s, SSL_CTX* server) {
    auto ctx = makeUserTlsClientContext(s);
    EXPECT_TRUE(ctx.ok()) << ctx.error().describe();
    if (!ctx.ok()) return false;
    Handshake hs(ctx->get(), server);
    EXPECT_TRUE(prepareUserTlsConnection(hs.client.get(), s).ok());
    return hs.run();
  }

  UserTlsSettings simple() const {
    UserTlsSettings s;
    s.mode = UpstreamTlsMode::kSimple;
    s.ca_certificates = dir_ + "/client/root-cert.pem";
    return s;
  }

  std::string dir_;
  RootCa root_ = makeRoot();
  ossl::SslCtxPtr mutual_server_;
  ossl::SslCtxPtr simple_server_;
};

TEST_F(UserTlsTest, SimpleChecksTheServerSan) {
  UserTlsSettings s = simple();
  s.subject_alt_names = {"spiffe://cluster.local/ns/foo/sa/httpbin"};
  EXPECT_TRUE(connect(s, simple_server_.get()));
  s.subject_alt_names = {"db.example.com"};
  EXPECT_FALSE(connect(s, simple_server_.get()));
}

TEST_F(UserTlsTest, SimpleWithSniChecksTheServerName) {
  UserTlsSettings s = simple();
  s.sni = "httpbin.example.com";  // not a name of the server's certificate
  EXPECT_FALSE(connect(s, simple_server_.get()));
  s.insecure_skip_verify = true;
  EXPECT_TRUE(connect(s, simple_server_.get()));
}

TEST_F(UserTlsTest, SimpleRefusesAnotherCa) {
  RootCa other = makeRoot();
  ASSERT_TRUE(writeRoot(dir_ + "/other", other).ok());
  UserTlsSettings s = simple();
  s.ca_certificates = dir_ + "/other/root-cert.pem";
  EXPECT_FALSE(connect(s, simple_server_.get()));
}

TEST_F(UserTlsTest, MutualPresentsTheClientCertificate) {
  UserTlsSettings s = simple();
  EXPECT_FALSE(connect(s, mutual_server_.get()));  // SIMPLE has no certificate to show
  s.mode = UpstreamTlsMode::kMutual;
  s.client_certificate = dir_ + "/client/cert-chain.pem";
  s.private_key = dir_ + "/client/key.pem";
  EXPECT_TRUE(connect(s, mutual_server_.get()));
}

TEST_F(UserTlsTest, BadSettingsNameTheField) {
  UserTlsSettings s = simple();
  s.mode = UpstreamTlsMode::kMutual;
  auto missing = makeUserTlsClientContext(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find("MUTUAL needs clientCertificate and privateKey"),
            std::string::npos);
  s.client_certificate = dir_ + "/client/key.pem";
  s.private_key = dir_ + "/client/key.pem";
  auto wrong = makeUserTlsClientContext(s);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().detail.find("tls.clientCertificate " + dir_ + "/client/key.pem"),
            std::string::npos)
      << wrong.error().detail;
  s.client_certificate = dir_ + "/client/cert-chain.pem";
  ASSERT_TRUE(writeWorkload(dir_ + "/other-wl", issue(root_, forId("foo", "x")), root_).ok());
  s.private_key = dir_ + "/other-wl/key.pem";
  auto mismatch = makeUserTlsClientContext(s);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().detail.find("does not match"), std::string::npos);
  UserTlsSettings istio;
  istio.mode = UpstreamTlsMode::kIstioMutual;
  EXPECT_FALSE(makeUserTlsClientContext(istio).ok());
}

}  // namespace
}  // namespace meshnode::security
