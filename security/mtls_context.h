#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/openssl.h"
#include "common/result.h"
#include "security/spiffe_id.h"
#include "security/workload_identity.h"

namespace meshnode::security {

// ALPN of mesh mTLS: the istio-* token tells a peer proxy that the connection is mesh
// traffic, the plain token follows for peers that do not know the mesh.
inline constexpr std::string_view kAlpnIstioH2 = "istio-h2";
inline constexpr std::string_view kAlpnIstioHttp11 = "istio-http/1.1";
inline constexpr std::string_view kAlpnIstio = "istio";
inline constexpr std::string_view kAlpnH2 = "h2";
inline constexpr std::string_view kAlpnHttp11 = "http/1.1";

// What a client offers for each upstream protocol, and what a server prefers.
std::vector<std::string> meshAlpnForHttp2();   // istio-h2, h2
std::vector<std::string> meshAlpnForHttp11();  // istio-http/1.1, http/1.1
std::vector<std::string> meshAlpnForTcp();     // istio
std::vector<std::string> meshAlpnServerPreference();

enum class AppProtocol { kUnknown, kHttp2, kHttp11, kOpaque };
// The application protocol an ALPN token stands for ("istio-h2" and "h2" are both kHttp2).
AppProtocol appProtocolOfAlpn(std::string_view alpn);

// Which peer identities a handshake accepts. A peer must present exactly one SPIFFE URI SAN;
// it is then accepted when its trust domain is listed (or the list is empty) and its ID is
// listed (or the list is empty).
struct AllowedPeers {
  std::vector<std::string> trust_domains;
  std::vector<std::string> spiffe_ids;  // full URIs, spiffe://td/ns/x/sa/y

  bool accepts(const SpiffeId& id) const;
  std::string describe() const;
};

struct MtlsServerOptions {
  // STRICT and the TLS side of PERMISSIVE both require a client certificate.
  bool require_client_certificate = true;
  // Empty: the trust domain of the local identity.
  std::shared_ptr<const AllowedPeers> allowed_peers;
  std::vector<std::string> alpn = meshAlpnServerPreference();
};

struct MtlsClientOptions {
  // Default for every connection; setAllowedPeers() narrows one connection to the service
  // accounts of its destination. Empty: the trust domain of the local identity.
  std::shared_ptr<const AllowedPeers> allowed_peers;
  std::vector<std::string> alpn = meshAlpnForHttp11();
};

// Builders of SSL_CTX for mesh mTLS: the identity's chain and key, its roots as the only trust
// anchors, TLS 1.2 minimum, no renegotiation, and a verify callback that checks the peer's
// SPIFFE ID. They run on the reload thread; the contexts they return are then only read.
Result<ossl::SslCtxPtr> makeServerContext(const WorkloadIdentity& identity,
                                          const MtlsServerOptions& options);
Result<ossl::SslCtxPtr> makeClientContext(const WorkloadIdentity& identity,
                                          const MtlsClientOptions& options);

// Per-connection settings, called after SSL_new and before the handshake.
Status setAllowedPeers(SSL* ssl, std::shared_ptr<const AllowedPeers> allowed);
Status setClientAlpn(SSL* ssl, const std::vector<std::string>& protocols);
Status setServerName(SSL* ssl, const std::string& sni);

// After the handshake: the verified peer's SPIFFE ID, the negotiated ALPN ("" when none), and
// why the verify callback refused the peer ("" when it did not).
Result<SpiffeId> peerIdentity(const SSL* ssl);
std::string negotiatedAlpn(const SSL* ssl);
std::string peerRejectionReason(const SSL* ssl);

// One element of x-forwarded-client-cert as Envoy writes it for a mesh peer:
// By=<local URI>;Hash=<sha256 of the peer certificate, hex>;Subject="<subject>";URI=<peer URI>
Result<std::string> forwardedClientCert(const SSL* ssl, const SpiffeId& local);

// Everything mesh TLS needs, built together from one set of files. Rotation builds a new
// bundle and swaps a std::shared_ptr<const MtlsContexts>; connections already open keep a
// reference to the SSL_CTX they were made from, so nothing is dropped.
struct MtlsContexts {
  std::shared_ptr<const WorkloadIdentity> identity;
  ossl::SslCtxPtr server;
  ossl::SslCtxPtr client;
};

Result<std::shared_ptr<const MtlsContexts>> buildMtlsContexts(const IdentityFiles& files,
                                                              const MtlsServerOptions& server,
                                                              const MtlsClientOptions& client,
                                                              SystemTime now);

}  // namespace meshnode::security
