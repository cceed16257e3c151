#include "proxy/stats/identity_metrics.h"

#include "proxy/stats/stats.h"
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

}  // namespace

std::string identityPrometheus(const security::WorkloadIdentity& identity,
                               security::SystemTime now) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  std::string id = "spiffe_id=\"" + labelValue(identity.id().uri()) + "\"";
  int64_t not_after = duration_cast<seconds>(identity.notAfter().time_since_epoch()).count();
  int64_t now_s = duration_cast<seconds>(now.time_since_epoch()).count();
  std::string out;
  // *_expiry_seconds: seconds until notAfter, negative once expired, so an alert keeps firing.
  appendFamily(out, "workload_cert_expiry_seconds", "gauge");
  appendSample(out, "workload_cert_expiry_seconds", "{" + id + "}",
               std::to_string(identity.secondsUntilExpiry(now)));
  appendFamily(out, "workload_cert_not_after_seconds", "gauge");
  appendSample(out, "workload_cert_not_after_seconds", "{" + id + "}", std::to_string(not_after));

  std::string roots_expiry, roots_not_after;
  for (const auto& root : identity.roots()) {
    auto root_not_after = ossl::toUnixSeconds(X509_get0_notAfter(root.get()));
    if (!root_not_after) continue;  // the loader validated every root; nothing to show
    std::string labels = "{" + id + ",root=\"" +
                         labelValue(ossl::nameToString(X509_get_subject_name(root.get()))) + "\"}";
    appendSample(roots_expiry, "root_cert_expiry_seconds", labels,
                 std::to_string(*root_not_after - now_s));
    appendSample(roots_not_after, "root_cert_not_after_seconds", labels,
                 std::to_string(*root_not_after));
  }
  appendFamily(out, "root_cert_expiry_seconds", "gauge");
  out += roots_expiry;
  appendFamily(out, "root_cert_not_after_seconds", "gauge");
  out += roots_not_after;
  return out;
}

std::string currentIdentityPrometheus(security::SystemTime now) {
  auto contexts = TlsStore::get().current();
  if (!contexts || !contexts->mesh || !contexts->mesh->identity) return {};
  return identityPrometheus(*contexts->mesh->identity, now);
}

}  // namespace meshnode::proxy
