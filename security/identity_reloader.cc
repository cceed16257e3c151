#include "security/identity_reloader.h"

#include <sys/stat.h>

#include "common/log.h"

namespace meshnode::security {

IdentityReloader::IdentityReloader(IdentityFiles files, MtlsServerOptions server,
                                   MtlsClientOptions client)
    : files_(std::move(files)),
      server_options_(std::move(server)),
      client_options_(std::move(client)) {}

IdentityReloader::Stamps IdentityReloader::stampFiles(const IdentityFiles& files) {
  auto stamp = [](const std::string& path) {
    Stamp s;
    struct stat st = {};
    if (::stat(path.c_str(), &st) == 0) {
      s.dev = st.st_dev;
      s.ino = st.st_ino;
      s.size = static_cast<unsigned long long>(st.st_size);
      s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    }
    return s;
  };
  return Stamps{stamp(files.cert_chain), stamp(files.key), stamp(files.root_cert)};
}

IdentityReloader::Outcome IdentityReloader::poll(SystemTime now) {
  Outcome out;
  Stamps stamps = stampFiles(files_);
  if (!last_attempt_ || !(*last_attempt_ == stamps)) {
    last_attempt_ = stamps;
    auto built = buildMtlsContexts(files_, server_options_, client_options_, now);
    if (built) {
      current_ = std::move(built).value();
      out.reloaded = true;
      warned_near_expiry_ = false;
    } else {
      LOG_ERROR("mesh identity from %s refused, keeping the %s: %s", files_.cert_chain.c_str(),
                current_ ? "previous one" : "proxy without mTLS identity",
                built.error().describe().c_str());
      out.error = built.error();
    }
  }
  if (current_ && !warned_near_expiry_ && current_->identity->nearExpiry(now)) {
    warned_near_expiry_ = true;
    LOG_WARN("mesh certificate %s expires in %lld s and has not been rotated",
             current_->identity->id().uri().c_str(),
             static_cast<long long>(current_->identity->secondsUntilExpiry(now)));
  }
  out.current = current_;
  return out;
}

std::optional<int64_t> IdentityReloader::secondsUntilExpiry(SystemTime now) const {
  if (!current_) return std::nullopt;
  return current_->identity->secondsUntilExpiry(now);
}

}  // namespace meshnode::security
