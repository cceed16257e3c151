#pragma once

#include <memory>
#include <optional>

#include "common/result.h"
#include "security/mtls_context.h"
#include "security/workload_identity.h"

namespace meshnode::security {

// Watches the identity files and rebuilds the mTLS contexts when they change. Runs on the
// control thread (it stats and reads files); workers only ever see the
// std::shared_ptr<const MtlsContexts> it publishes, so an open connection keeps the context
// it was made from and a rotation drops nothing.
class IdentityReloader {
 public:
  IdentityReloader(IdentityFiles files, MtlsServerOptions server, MtlsClientOptions client);

  struct Outcome {
    std::shared_ptr<const MtlsContexts> current;  // null until a first load succeeds
    bool reloaded = false;
    std::optional<Error> error;  // a failed (re)load; the previous contexts stay current
  };

  // Reloads when any of the three files changed (inode, size or mtime) since the last attempt,
  // or on the first call. A half-written rotation (new chain, old key) fails the key check and
  // is retried on the next poll. Logs a warning once per certificate in the last fifth of its
  // lifetime, and an error for every refused rotation.
  Outcome poll(SystemTime now);

  std::shared_ptr<const MtlsContexts> current() const { return current_; }
  // Seconds until the current certificate expires (negative once expired); nullopt before
  // the first load. For the proxy's metrics.
  std::optional<int64_t> secondsUntilExpiry(SystemTime now) const;

 private:
  struct Stamp {
    unsigned long long dev = 0, ino = 0, size = 0;
    long long mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Stamps {
    Stamp chain, key, root;
    bool operator==(const Stamps&) const = default;
  };
  static Stamps stampFiles(const IdentityFiles& files);

  IdentityFiles files_;
  MtlsServerOptions server_options_;
  MtlsClientOptions client_options_;
  std::optional<Stamps> last_attempt_;
  std::shared_ptr<const MtlsContexts> current_;
  bool warned_near_expiry_ = false;
};

}  // namespace meshnode::security
