#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "security/jwt_claims.h"
#include "security/spiffe_id.h"

namespace meshnode::security {

// What authorization knows about one request (HTTP) or connection (TCP). Filled by the
// proxy's inbound pipeline; empty strings mean "absent" (no peer certificate, no JWT, ...).
struct AuthzRequest {
  // false for TCP: HTTP-only fields cannot match (see AuthzEngine).
  bool is_http = true;

  std::string source_principal;  // peer identity without scheme: "cluster.local/ns/foo/sa/sleep"
  std::string source_namespace;  // the peer identity's namespace
  std::string source_ip;         // the downstream connection's address
  std::string remote_ip;         // the original client (X-Forwarded-For); empty: source_ip
  std::string destination_ip;
  uint16_t destination_port = 0;
  std::string sni;  // connection.sni

  std::string request_principal;  // "<iss>/<sub>" of the verified JWT
  JwtClaims claims;               // of the verified JWT

  std::string host;                                          // :authority / Host, as received
  std::string method;                                        // :method
  std::string path;                                          // normalized, without the query
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names

  // Fills source_principal and source_namespace from the verified peer identity.
  void setSourcePeer(const SpiffeId& peer) {
    source_principal = peer.principal();
    source_namespace = peer.ns;
  }
};

}  // namespace meshnode::security
