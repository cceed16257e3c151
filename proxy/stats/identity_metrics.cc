#include "proxy/stats/identity_metrics.h"

#include "proxy/tls/tls_store.h"

namespace meshnode::proxy {
namespace {

// A label value as the Prometheus text format wants it: backslash, quote and newline escaped.
std::string labelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void gauge(std::string& out, const char* name, const char* help) {
  out += "# HELP meshnode_proxy_";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE meshnode_proxy_";
  out += name;
  out += " gauge\n";
}

void sample(std::string& out, const char* name, const std::string& labels, int64_t value) {
  out += "meshnode_proxy_";
  out += name;
  out += '{' + labels + "} " + std::to_string(value) + '\n';
}

}  // namespace

std::string identityPrometheus(const security::WorkloadIdentity& identity,
                               security::SystemTime now) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  std::string id = "spiffe_id=\"" + labelValue(identity.id().uri()) + "\"";
  int64_t not_after = duration_cast<seconds>(identity.notAfter().time_since_epoch()).count();
  int64_t now_s = duration_cast<seconds>(now.time_since_epoch()).count();
  std::string out;
  gauge(out, "workload_cert_expiry_seconds",
        "Seconds until the workload certificate expires (negative once expired).");
  sample(out, "workload_cert_expiry_seconds", id, identity.secondsUntilExpiry(now));
  gauge(out, "workload_cert_not_after_seconds",
        "The workload certificate's notAfter, seconds since the epoch.");
  sample(out, "workload_cert_not_after_seconds", id, not_after);

  std::string roots_expiry, roots_not_after;
  for (const auto& root : identity.roots()) {
    auto root_not_after = ossl::toUnixSeconds(X509_get0_notAfter(root.get()));
    if (!root_not_after) continue;  // the loader validated every root; nothing to show
    std::string labels =
        id + ",root=\"" + labelValue(ossl::nameToString(X509_get_subject_name(root.get()))) + "\"";
    sample(roots_expiry, "root_cert_expiry_seconds", labels, *root_not_after - now_s);
    sample(roots_not_after, "root_cert_not_after_seconds", labels, *root_not_after);
  }
  gauge(out, "root_cert_expiry_seconds",
        "Seconds until each root of the mesh trust bundle expires (negative once expired).");
  out += roots_expiry;
  gauge(out, "root_cert_not_after_seconds", "Each root's notAfter, seconds since the epoch.");
  out += roots_not_after;
  return out;
}

std::string currentIdentityPrometheus(security::SystemTime now) {
  auto contexts = TlsStore::get().current();
  if (!contexts || !contexts->mesh || !contexts->mesh->identity) return {};
  return identityPrometheus(*contexts->mesh->identity, now);
}

}  // namespace meshnode::proxy
