#include "security/mtls_context.h"

#include <algorithm>

#include "common/log.h"

namespace meshnode::security {

std::vector<std::string> meshAlpnForHttp2() {
  return {std::string(kAlpnIstioH2), std::string(kAlpnH2)};
}
std::vector<std::string> meshAlpnForHttp11() {
  return {std::string(kAlpnIstioHttp11), std::string(kAlpnHttp11)};
}
std::vector<std::string> meshAlpnForTcp() {
  return {std::string(kAlpnIstio)};
}
std::vector<std::string> meshAlpnServerPreference() {
  return {std::string(kAlpnIstioH2), std::string(kAlpnIstioHttp11), std::string(kAlpnIstio),
          std::string(kAlpnH2), std::string(kAlpnHttp11)};
}

AppProtocol appProtocolOfAlpn(std::string_view alpn) {
  if (alpn == kAlpnIstioH2 || alpn == kAlpnH2) return AppProtocol::kHttp2;
  if (alpn == kAlpnIstioHttp11 || alpn == kAlpnHttp11 || alpn == "istio-http/1.0" ||
      alpn == "http/1.0") {
    return AppProtocol::kHttp11;
  }
  if (alpn == kAlpnIstio) return AppProtocol::kOpaque;
  return AppProtocol::kUnknown;
}

bool AllowedPeers::accepts(const SpiffeId& id) const {
  if (!trust_domains.empty() && std::find(trust_domains.begin(), trust_domains.end(),
                                          id.trust_domain) == trust_domains.end()) {
    return false;
  }
  return spiffe_ids.empty() ||
         std::find(spiffe_ids.begin(), spiffe_ids.end(), id.uri()) != spiffe_ids.end();
}

std::string AllowedPeers::describe() const {
  std::string out;
  auto join = [&out](const char* label, const std::vector<std::string>& items) {
    if (items.empty()) return;
    if (!out.empty()) out += "; ";
    out += label;
    for (size_t i = 0; i < items.size(); ++i)
      out += (i ? "," : "") + items[i];
  };
  join("trust domains ", trust_domains);
  join("identities ", spiffe_ids);
  return out.empty() ? "any mesh identity" : out;
}

namespace {

// Context-wide state, owned by the SSL_CTX through ex_data.
struct CtxState {
  std::shared_ptr<const AllowedPeers> allowed;
  std::vector<std::string> server_alpn;
};

// Per-connection state, owned by the SSL through ex_data.
struct ConnState {
  std::shared_ptr<const AllowedPeers> allowed;
  std::string rejection;
};

void freeCtxState(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<CtxState*>(ptr);
}
void freeConnState(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ConnState*>(ptr);
}

int ctxIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeCtxState);
  return index;
}
int connIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeConnState);
  return index;
}

ConnState* connState(SSL* ssl) {
  auto* state = static_cast<ConnState*>(SSL_get_ex_data(ssl, connIndex()));
  if (state != nullptr) return state;
  auto fresh = std::make_unique<ConnState>();
  if (SSL_set_ex_data(ssl, connIndex(), fresh.get()) != 1) return nullptr;
  return fresh.release();
}

const AllowedPeers* allowedFor(const SSL* ssl) {
  auto* conn = static_cast<const ConnState*>(SSL_get_ex_data(ssl, connIndex()));
  if (conn != nullptr && conn->allowed) return conn->allowed.get();
  auto* ctx = static_cast<const CtxState*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctxIndex()));
  return ctx != nullptr ? ctx->allowed.get() : nullptr;
}

// OpenSSL calls this for each certificate of the peer's chain; only the leaf carries the
// identity. A refusal is recorded so the connection's owner can log who was refused and why.
int verifyPeer(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  if (!preverify_ok) {
    if (ConnState* conn = connState(ssl); conn != nullptr && conn->rejection.empty()) {
      conn->rejection = std::string("peer certificate: ") +
                        X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    }
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  auto id = spiffeIdOf(cert, "peer");
  std::string reason;
  if (!id) {
    reason = id.error().detail;
  } else if (const AllowedPeers* allowed = allowedFor(ssl);
             allowed != nullptr && !allowed->accepts(*id)) {
    reason = "peer " + id->uri() + " is not allowed (expected " + allowed->describe() + ")";
  }
  if (reason.empty()) return 1;
  if (ConnState* conn = connState(ssl)) conn->rejection = reason;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  const auto* state = static_cast<const CtxState*>(arg);
  for (const std::string& wanted : state->server_alpn) {
    unsigned int i = 0;
    while (i < inlen) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) return SSL_TLSEXT_ERR_NOACK;
      if (len == wanted.size() && std::equal(wanted.begin(), wanted.end(), in + i + 1)) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  // A peer that offers none of ours still gets TLS; the listener decides from "no ALPN".
  return SSL_TLSEXT_ERR_NOACK;
}

Result<std::string> alpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       "invalid ALPN token '" + p + "'");
    }
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

std::shared_ptr<const AllowedPeers> defaultAllowed(const WorkloadIdentity& identity,
                                                   std::shared_ptr<const AllowedPeers> given) {
  if (given) return given;
  auto own = std::make_shared<AllowedPeers>();
  own->trust_domains.push_back(identity.id().trust_domain);
  return own;
}

Result<ossl::SslCtxPtr> baseContext(bool server, const WorkloadIdentity& identity,
                                    std::unique_ptr<CtxState> state, int verify_mode) {
  ossl::clearErrors();
  ossl::SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) return ossl::lastError("SSL_CTX_new");
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  // Resumption would skip the verify callback, and with it the per-connection identity check;
  // mesh connections are long-lived, so full handshakes cost little.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate(c, identity.leaf()) != 1) {
    return ossl::lastError("loading certificate of " + identity.id().uri());
  }
  for (X509* cert : identity.intermediates()) {
    if (SSL_CTX_add1_chain_cert(c, cert) != 1) return ossl::lastError("adding chain certificate");
  }
  if (SSL_CTX_use_PrivateKey(c, identity.key()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return ossl::lastError("loading private key of " + identity.id().uri());
  }
  auto store = identity.makeTrustStore();
  if (!store) return store.error();
  SSL_CTX_set_cert_store(c, store->release());
  SSL_CTX_set_verify(c, verify_mode, verifyPeer);
  CtxState* raw = state.get();
  if (SSL_CTX_set_ex_data(c, ctxIndex(), raw) != 1) return ossl::lastError("SSL_CTX_set_ex_data");
  state.release();
  if (server) {
    static const unsigned char kContext[] = "meshnode";
    SSL_CTX_set_session_id_context(c, kContext, sizeof(kContext) - 1);
    SSL_CTX_set_alpn_select_cb(c, selectAlpn, raw);
  }
  return ctx;
}

}  // namespace

Result<ossl::SslCtxPtr> makeServerContext(const WorkloadIdentity& identity,
                                          const MtlsServerOptions& options) {
  auto state = std::make_unique<CtxState>();
  state->allowed = defaultAllowed(identity, options.allowed_peers);
  state->server_alpn = options.alpn;
  int mode = SSL_VERIFY_PEER;
  if (options.require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  return baseContext(true, identity, std::move(state), mode);
}

Result<ossl::SslCtxPtr> makeClientContext(const WorkloadIdentity& identity,
                                          const MtlsClientOptions& options) {
  auto state = std::make_unique<CtxState>();
  state->allowed = defaultAllowed(identity, options.allowed_peers);
  auto ctx = baseContext(false, identity, std::move(state), SSL_VERIFY_PEER);
  if (!ctx) return ctx;
  auto wire = alpnWire(options.alpn);
  if (!wire) return wire.error();
  // SSL_CTX_set_alpn_protos returns 0 on success, unlike its neighbours.
  if (!wire->empty() &&
      SSL_CTX_set_alpn_protos(ctx->get(), reinterpret_cast<const unsigned char*>(wire->data()),
                              static_cast<unsigned int>(wire->size())) != 0) {
    return ossl::lastError("setting ALPN");
  }
  return ctx;
}

Status setAllowedPeers(SSL* ssl, std::shared_ptr<const AllowedPeers> allowed) {
  ConnState* conn = connState(ssl);
  if (conn == nullptr) return ossl::lastError("SSL_set_ex_data");
  conn->allowed = std::move(allowed);
  return {};
}

Status setClientAlpn(SSL* ssl, const std::vector<std::string>& protocols) {
  auto wire = alpnWire(protocols);
  if (!wire) return wire.error();
  if (SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire->data()),
                          static_cast<unsigned int>(wire->size())) != 0) {
    return ossl::lastError("setting ALPN");
  }
  return {};
}

Status setServerName(SSL* ssl, const std::string& sni) {
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(sni.c_str())) != 1)
    return ossl::lastError("setting SNI");
  return {};
}

Result<SpiffeId> peerIdentity(const SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    return makeError(ErrorCode::kRefused, Side::kDownstream, "peer sent no certificate");
  }
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return makeError(ErrorCode::kRefused, Side::kDownstream, "peer certificate was not verified");
  }
  auto id = spiffeIdOf(cert, "peer");
  if (!id) return makeError(ErrorCode::kRefused, Side::kDownstream, id.error().detail);
  return id;
}

std::string negotiatedAlpn(const SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), len);
}

std::string peerRejectionReason(const SSL* ssl) {
  auto* conn = static_cast<const ConnState*>(SSL_get_ex_data(ssl, connIndex()));
  return conn != nullptr ? conn->rejection : std::string();
}

Result<std::string> forwardedClientCert(const SSL* ssl, const SpiffeId& local) {
  auto peer = peerIdentity(ssl);
  if (!peer) return peer.error();
  X509* cert = SSL_get0_peer_certificate(ssl);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1) return ossl::lastError("X509_digest");
  static const char kHex[] = "0123456789abcdef";
  std::string hash;
  for (unsigned int i = 0; i < md_len; ++i) {
    hash += kHex[md[i] >> 4];
    hash += kHex[md[i] & 0xf];
  }
  std::string subject = ossl::nameToString(X509_get_subject_name(cert));
  std::string escaped;
  for (char c : subject) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return "By=" + local.uri() + ";Hash=" + hash + ";Subject=\"" + escaped + "\";URI=" + peer->uri();
}

Result<std::shared_ptr<const MtlsContexts>> buildMtlsContexts(const IdentityFiles& files,
                                                              const MtlsServerOptions& server,
                                                              const MtlsClientOptions& client,
                                                              SystemTime now) {
  auto identity = WorkloadIdentity::load(files, now);
  if (!identity) return identity.error();
  auto server_ctx = makeServerContext(**identity, server);
  if (!server_ctx) return server_ctx.error();
  auto client_ctx = makeClientContext(**identity, client);
  if (!client_ctx) return client_ctx.error();
  auto out = std::make_shared<MtlsContexts>();
  out->identity = std::move(identity).value();
  out->server = std::move(server_ctx).value();
  out->client = std::move(client_ctx).value();
  LOG_INFO("mesh identity %s loaded from %s, valid until %lld", out->identity->id().uri().c_str(),
           files.cert_chain.c_str(),
           static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                      out->identity->notAfter().time_since_epoch())
                                      .count()));
  return std::shared_ptr<const MtlsContexts>(std::move(out));
}

}  // namespace meshnode::security
