#include "proxy/tls/tls_loader.h"

#include <chrono>

#include "common/log.h"
#include "proxy/tls/mesh_tls.h"

namespace meshnode::proxy {

Status TlsLoader::apply(const Snapshot& snapshot) {
  const SecurityConfig& sec = snapshot.security;
  std::unique_ptr<security::IdentityReloader> reloader;
  if (sec.hasIdentity()) {
    security::IdentityFiles files{sec.cert_chain, sec.key, sec.root_cert};
    bool same = files_ && files_->cert_chain == files.cert_chain && files_->key == files.key &&
                files_->root_cert == files.root_cert;
    if (!same) {
      reloader = std::make_unique<security::IdentityReloader>(files, security::MtlsServerOptions{},
                                                              security::MtlsClientOptions{});
      auto outcome = reloader->poll(std::chrono::system_clock::now());
      if (!outcome.current)
        return outcome.error
                   ? *outcome.error
                   : makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                               "workload identity " + files.cert_chain + ": could not be loaded");
    }
  }
  std::map<std::string, std::shared_ptr<const ossl::SslCtxPtr>> clusters;
  for (const auto& c : snapshot.clusters) {
    if (!c.tls.configured || (c.tls.mode != TlsMode::kSimple && c.tls.mode != TlsMode::kMutual))
      continue;
    auto ctx = security::makeUserTlsClientContext(userTlsSettings(c.tls));
    if (!ctx) {
      Error e = ctx.error();
      e.detail = "cluster " + c.name + ": tls: " + e.detail;
      return e;
    }
    clusters[c.name] = std::make_shared<const ossl::SslCtxPtr>(std::move(*ctx));
  }

  if (!sec.hasIdentity()) {
    files_.reset();
    reloader_.reset();
  } else if (reloader) {
    files_ = security::IdentityFiles{sec.cert_chain, sec.key, sec.root_cert};
    reloader_ = std::move(reloader);
    LOG_NOTICE("workload identity %s loaded", reloader_->current()->identity->id().uri().c_str());
  }
  clusters_ = std::move(clusters);
  auto_mtls_ = sec.auto_mtls;
  publish();
  return {};
}

void TlsLoader::poll() {
  if (!reloader_) return;
  auto outcome = reloader_->poll(std::chrono::system_clock::now());
  if (outcome.reloaded) {
    LOG_NOTICE("workload identity rotated: %s valid for %lld more seconds",
               outcome.current->identity->id().uri().c_str(),
               static_cast<long long>(outcome.current->identity->secondsUntilExpiry(
                   std::chrono::system_clock::now())));
    publish();
  }
}

void TlsLoader::publish() {
  auto contexts = std::make_shared<TlsContexts>();
  contexts->mesh = reloader_ ? reloader_->current() : nullptr;
  contexts->clusters = clusters_;
  contexts->auto_mtls = auto_mtls_;
  TlsStore::get().set(std::move(contexts));
}

}  // namespace meshnode::proxy
