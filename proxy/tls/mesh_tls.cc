#include "proxy/tls/mesh_tls.h"

#include "security/sni.h"

namespace meshnode::proxy {
namespace {

const Endpoint* findEndpoint(const Cluster& cluster, const asio::ip::tcp::endpoint& endpoint) {
  std::string address = endpoint.address().to_string();
  for (const auto& e : cluster.endpoints)
    if (e.port == endpoint.port() && e.address == address) return &e;
  return nullptr;
}

security::UpstreamTlsMode toSecurityMode(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisable:
      return security::UpstreamTlsMode::kDisable;
    case TlsMode::kSimple:
      return security::UpstreamTlsMode::kSimple;
    case TlsMode::kMutual:
      return security::UpstreamTlsMode::kMutual;
    case TlsMode::kIstioMutual:
      return security::UpstreamTlsMode::kIstioMutual;
  }
  return security::UpstreamTlsMode::kDisable;
}

// Istio names a cluster outbound|<port>|<subset>|<fqdn>; its mesh SNI spells each '|' "_.".
std::string meshSni(const Cluster& cluster) {
  if (!cluster.tls.sni.empty()) return cluster.tls.sni;
  std::string_view name = cluster.name;
  size_t a = name.find('|'), b = name.find('|', a + 1), c = name.find('|', b + 1);
  if (a == std::string_view::npos || b == std::string_view::npos || c == std::string_view::npos)
    return "";
  unsigned long port =
      std::strtoul(std::string(name.substr(a + 1, b - a - 1)).c_str(), nullptr, 10);
  return security::outboundSni(static_cast<uint16_t>(port), name.substr(b + 1, c - b - 1),
                               name.substr(c + 1));
}

std::vector<std::string> meshAlpn(security::AppProtocol protocol) {
  switch (protocol) {
    case security::AppProtocol::kHttp2:
      return security::meshAlpnForHttp2();
    case security::AppProtocol::kHttp11:
      return security::meshAlpnForHttp11();
    default:
      return security::meshAlpnForTcp();
  }
}

Error tlsConfigError(const Cluster& cluster, const std::string& what) {
  return makeError(ErrorCode::kUnsupported, Side::kConfig, "cluster " + cluster.name + ": " + what,
                   false);
}

}  // namespace

Result<ossl::SslPtr> newInboundSsl(const TlsContexts& contexts) {
  if (!contexts.mesh)
    return makeError(ErrorCode::kUnsupported, Side::kConfig,
                     "no workload identity is loaded: mTLS cannot be served");
  ossl::SslPtr ssl(SSL_new(contexts.mesh->server.get()));
  if (!ssl) return ossl::lastError("SSL_new (inbound)");
  return ssl;
}

security::UpstreamTlsMode upstreamTlsMode(const TlsContexts& contexts, const Cluster& cluster,
                                          const asio::ip::tcp::endpoint& endpoint) {
  if (cluster.tls.configured) return toSecurityMode(cluster.tls.mode);
  const Endpoint* ep = findEndpoint(cluster, endpoint);
  static const std::map<std::string, std::string> kNoLabels;
  return security::effectiveUpstreamTls(std::nullopt, ep ? ep->labels : kNoLabels,
                                        contexts.auto_mtls && contexts.mesh != nullptr);
}

Result<std::optional<ossl::SslPtr>> newUpstreamSsl(const TlsContexts& contexts,
                                                   const Cluster& cluster,
                                                   const asio::ip::tcp::endpoint& endpoint,
                                                   security::AppProtocol protocol) {
  auto mode = upstreamTlsMode(contexts, cluster, endpoint);
  if (mode == security::UpstreamTlsMode::kDisable) return std::optional<ossl::SslPtr>();
  if (mode == security::UpstreamTlsMode::kIstioMutual) {
    if (!contexts.mesh)
      return tlsConfigError(cluster, "ISTIO_MUTUAL needs a workload identity, none is loaded");
    ossl::SslPtr ssl(SSL_new(contexts.mesh->client.get()));
    if (!ssl) return ossl::lastError("SSL_new (upstream " + cluster.name + ")");
    if (auto st = security::setClientAlpn(ssl.get(), meshAlpn(protocol)); !st) return st.error();
    if (std::string sni = meshSni(cluster); !sni.empty())
      if (auto st = security::setServerName(ssl.get(), sni); !st) return st.error();
    auto peers = std::make_shared<security::AllowedPeers>();
    for (const auto& san : cluster.tls.subject_alt_names)
      if (san.starts_with("spiffe://")) peers->spiffe_ids.push_back(san);
    if (!peers->spiffe_ids.empty()) {
      if (auto st = security::setAllowedPeers(ssl.get(), std::move(peers)); !st) return st.error();
    }
    return std::optional<ossl::SslPtr>(std::move(ssl));
  }
  auto it = contexts.clusters.find(cluster.name);
  if (it == contexts.clusters.end())
    return tlsConfigError(cluster, "its TLS context could not be built (see the log)");
  ossl::SslPtr ssl(SSL_new(it->second->get()));
  if (!ssl) return ossl::lastError("SSL_new (upstream " + cluster.name + ")");
  if (auto st = security::prepareUserTlsConnection(ssl.get(), userTlsSettings(cluster.tls)); !st)
    return st.error();
  return std::optional<ossl::SslPtr>(std::move(ssl));
}

security::UserTlsSettings userTlsSettings(const UpstreamTls& tls) {
  security::UserTlsSettings s;
  s.mode = tls.mode == TlsMode::kMutual ? security::UpstreamTlsMode::kMutual
                                        : security::UpstreamTlsMode::kSimple;
  s.client_certificate = tls.client_certificate;
  s.private_key = tls.private_key;
  s.ca_certificates = tls.ca_certificates;
  s.subject_alt_names = tls.subject_alt_names;
  s.sni = tls.sni;
  s.insecure_skip_verify = tls.insecure_skip_verify;
  return s;
}

}  // namespace meshnode::proxy
