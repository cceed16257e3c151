#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "common/openssl.h"
#include "security/mtls_context.h"

namespace meshnode::proxy {

// Every SSL_CTX the data path may use, built on the main thread (identity files, cluster
// certificate files) and published whole. A connection takes an SSL from the contexts in force
// when it starts and keeps it (SSL holds a reference to its SSL_CTX), so a rotation changes
// only new handshakes.
struct TlsContexts {
  std::shared_ptr<const security::MtlsContexts> mesh;  // null: no workload identity loaded
  // SIMPLE and MUTUAL clusters, by cluster name.
  std::map<std::string, std::shared_ptr<const ossl::SslCtxPtr>> clusters;
  bool auto_mtls = true;
};

// The TlsContexts in force: written by the main thread, read by workers as a connection starts.
class TlsStore {
 public:
  static TlsStore& get() {
    static TlsStore store;
    return store;
  }

  std::shared_ptr<const TlsContexts> current() const {
    return current_.load(std::memory_order_acquire);
  }
  void set(std::shared_ptr<const TlsContexts> contexts) {
    current_.store(std::move(contexts), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const TlsContexts>> current_;
};

}  // namespace meshnode::proxy
