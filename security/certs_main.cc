#include <cstdio>

#include <sysexits.h>

#include "common/log.h"
#include "security/cert_issuer.h"
#include "security/certs_options.h"
#include "security/workload_identity.h"

using namespace meshnode;
using namespace meshnode::security;

namespace {

int fail(const Error& error) {
  std::fprintf(stderr, "meshnode-certs: %s\n", error.describe().c_str());
  return error.side == Side::kSystem ? EX_IOERR : EX_DATAERR;
}

std::string rootTrustDomain(X509* root) {
  char buf[256] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_organizationName, buf,
                                    sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("cluster.local");
}

int runRoot(const CertsOptions& o, SystemTime now) {
  RootOptions ro;
  if (!o.trust_domain.empty()) ro.trust_domain = o.trust_domain;
  if (o.lifetime) ro.lifetime = *o.lifetime;
  auto root = createRoot(ro, now);
  if (!root) return fail(root.error());
  if (Status s = writeRoot(o.out_dir, *root); !s) return fail(s.error());
  std::printf("root CA for trust domain %s written to %s\n", ro.trust_domain.c_str(),
              o.out_dir.c_str());
  return 0;
}

int runWorkload(const CertsOptions& o, SystemTime now) {
  auto root = loadRoot(o.root_dir);
  if (!root) return fail(root.error());
  WorkloadCertOptions wo;
  wo.id = SpiffeId{o.trust_domain.empty() ? rootTrustDomain(root->cert.get()) : o.trust_domain,
                   o.ns, o.sa};
  if (o.lifetime) wo.lifetime = *o.lifetime;
  if (o.expired) wo.shift = -wo.lifetime - std::chrono::hours(1);
  if (o.not_yet_valid) wo.shift = wo.backdate + std::chrono::hours(1);
  wo.omit_uri_san = o.no_uri_san;
  wo.extra_uri_sans = o.extra_uri_sans;
  auto issued = issueWorkload(*root, wo, now);
  if (!issued) return fail(issued.error());
  if (Status s = writeWorkload(o.out_dir, *issued, *root); !s) return fail(s.error());
  std::printf("%s written to %s\n", wo.id.uri().c_str(), o.out_dir.c_str());
  return 0;
}

int runCheck(const CertsOptions& o, SystemTime now) {
  auto identity = WorkloadIdentity::load(IdentityFiles::inDirectory(o.dir), now);
  if (!identity) return fail(identity.error());
  std::printf("%s valid for %lld s\n", (*identity)->id().uri().c_str(),
              static_cast<long long>((*identity)->secondsUntilExpiry(now)));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  log::setProgram("meshnode-certs");
  auto options = parseCertsOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr, "meshnode-certs: %s\n%s", options.error().detail.c_str(), certsUsage());
    return EX_USAGE;
  }
  SystemTime now = std::chrono::system_clock::now();
  switch (options->command) {
    case CertsCommand::kRoot:
      return runRoot(*options, now);
    case CertsCommand::kWorkload:
      return runWorkload(*options, now);
    case CertsCommand::kCheck:
      return runCheck(*options, now);
    case CertsCommand::kHelp:
      break;
  }
  std::fputs(certsUsage(), stdout);
  return argc < 2 ? EX_USAGE : 0;
}
