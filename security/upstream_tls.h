#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/openssl.h"
#include "common/result.h"

// TLS towards an upstream: which mode a connection uses (DestinationRule tls.mode or auto
// mTLS) and, for SIMPLE and MUTUAL, a client context built from the user's files.
// ISTIO_MUTUAL uses the mesh context of security/mtls_context.h.
namespace meshnode::security {

enum class UpstreamTlsMode { kDisable, kSimple, kMutual, kIstioMutual };

// DestinationRule trafficPolicy.tls.mode: "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL".
Result<UpstreamTlsMode> parseUpstreamTlsMode(std::string_view name);
const char* toString(UpstreamTlsMode mode);

// The mode of one upstream endpoint. A DestinationRule's mode wins; without one, auto mTLS
// picks ISTIO_MUTUAL for endpoints labelled security.istio.io/tlsMode=istio (they run a mesh
// proxy) and plaintext for the others.
UpstreamTlsMode effectiveUpstreamTls(std::optional<UpstreamTlsMode> destination_rule_mode,
                                     const std::map<std::string, std::string>& endpoint_labels,
                                     bool auto_mtls = true);

// DestinationRule trafficPolicy.tls for SIMPLE and MUTUAL.
struct UserTlsSettings {
  UpstreamTlsMode mode = UpstreamTlsMode::kSimple;
  std::string client_certificate;  // MUTUAL: PEM file
  std::string private_key;         // MUTUAL: PEM file
  std::string ca_certificates;     // PEM file; empty: the system's trust store
  // The server certificate must carry one of these as a DNS or URI SAN; empty: its name must
  // match `sni` (when set).
  std::vector<std::string> subject_alt_names;
  std::string sni;
  bool insecure_skip_verify = false;
  std::vector<std::string> alpn;  // empty: none offered
};

// Reads the files (control thread). Errors name the file and the field.
Result<ossl::SslCtxPtr> makeUserTlsClientContext(const UserTlsSettings& settings);
// Per connection: SNI and the server-name check that go with `settings`.
Status prepareUserTlsConnection(SSL* ssl, const UserTlsSettings& settings);

}  // namespace meshnode::security
