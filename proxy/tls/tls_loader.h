#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/tls/tls_store.h"
#include "security/identity_reloader.h"

namespace meshnode::proxy {

// Builds the TlsContexts the data path uses and publishes them to TlsStore: the workload
// identity (re-read when its files change, so a rotated certificate is picked up without a
// restart) and the SIMPLE/MUTUAL contexts of the snapshot's clusters. Runs on the main thread:
// it reads files.
class TlsLoader {
 public:
  // Takes a snapshot's security settings and clusters. A snapshot that names identity files
  // that cannot be loaded, or a cluster certificate that cannot be read, is refused.
  Status apply(const Snapshot& snapshot);
  // Re-reads the identity files when they changed; a bad rotation keeps the current identity.
  void poll();

 private:
  void publish();

  std::optional<security::IdentityFiles> files_;
  std::unique_ptr<security::IdentityReloader> reloader_;
  std::map<std::string, std::shared_ptr<const ossl::SslCtxPtr>> clusters_;
  bool auto_mtls_ = true;
};

}  // namespace meshnode::proxy
