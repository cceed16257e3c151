#include <gtest/gtest.h>

#include "common/openssl.h"
#include "proxy/detect/protocol_detection.h"

namespace meshnode::proxy {
namespace {

// The first flight of a real OpenSSL client offering `alpn` (wire format), as a sniffer sees it.
std::string clientHello(const std::string& alpn_wire, const char* sni) {
  ossl::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  ossl::SslPtr ssl(SSL_new(ctx.get()));
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), rbio, wbio);
  if (!alpn_wire.empty())
    SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                        static_cast<unsigned>(alpn_wire.size()));
  if (sni)
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(sni));
  SSL_set_connect_state(ssl.get());
  SSL_do_handshake(ssl.get());
  std::string out(BIO_ctrl_pending(wbio), '\0');
  BIO_read(wbio, out.data(), static_cast<int>(out.size()));
  ossl::clearErrors();
  return out;
}

TEST(ClientHelloAlpnTest, ListsTheOfferedProtocolsInOrder) {
  std::string hello = clientHello(std::string("\x08istio-h2\x02h2", 12), "outbound_.80_._.a.b");
  EXPECT_EQ(clientHelloAlpn(hello), (std::vector<std::string>{"istio-h2", "h2"}));
  std::string sni;
  EXPECT_EQ(extractSni(hello, &sni), Protocol::kTls);
  EXPECT_EQ(sni, "outbound_.80_._.a.b");
}

TEST(ClientHelloAlpnTest, NoneOfferedOrNotAClientHello) {
  EXPECT_TRUE(clientHelloAlpn(clientHello("", nullptr)).empty());
  EXPECT_TRUE(clientHelloAlpn("GET / HTTP/1.1\r\n\r\n").empty());
  std::string hello = clientHello(std::string("\x05istio", 6), nullptr);
  EXPECT_TRUE(clientHelloAlpn(hello.substr(0, hello.size() / 2)).empty());  // truncated
  EXPECT_EQ(clientHelloAlpn(hello), (std::vector<std::string>{"istio"}));
}

}  // namespace
}  // namespace meshnode::proxy
