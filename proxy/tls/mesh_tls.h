#pragma once

#include <optional>
#include <string>

#include <asio/ip/tcp.hpp>

#include "common/openssl.h"
#include "common/result.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/tls/tls_store.h"
#include "security/mtls_context.h"
#include "security/upstream_tls.h"

// Per-connection TLS decisions of the data path: which contexts, SNI, ALPN and peer check a
// connection uses. Pure functions over the published TlsContexts; run on the worker.
namespace meshnode::proxy {

// An SSL for an accepted inbound connection, from the mesh server context.
Result<ossl::SslPtr> newInboundSsl(const TlsContexts& contexts);

// The TLS mode towards one endpoint of a cluster: the cluster's `tls` when set, otherwise auto
// mTLS (ISTIO_MUTUAL towards endpoints labelled security.istio.io/tlsMode=istio).
security::UpstreamTlsMode upstreamTlsMode(const TlsContexts& contexts, const Cluster& cluster,
                                          const asio::ip::tcp::endpoint& endpoint);

// The SSL for a connection to `endpoint` of `cluster`, or nullopt for plaintext. ISTIO_MUTUAL
// offers the mesh ALPN of `protocol`, sends the SNI outbound_.<port>_.<subset>_.<fqdn> of the
// cluster (or its `tls.sni`) and accepts only the SPIFFE IDs of `tls.subject_alt_names` (or,
// without any, the local trust domain).
Result<std::optional<ossl::SslPtr>> newUpstreamSsl(const TlsContexts& contexts,
                                                   const Cluster& cluster,
                                                   const asio::ip::tcp::endpoint& endpoint,
                                                   security::AppProtocol protocol);

// A cluster's `tls` as the security library's user TLS settings (SIMPLE, MUTUAL).
security::UserTlsSettings userTlsSettings(const UpstreamTls& tls);

}  // namespace meshnode::proxy
