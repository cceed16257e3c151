#include "agent/istio/loader.h"

#include <algorithm>
#include <filesystem>

#include "agent/istio/decode.h"
#include "agent/istio/yaml_bounds.h"
#include "common/file.h"

namespace meshnode::istio {
namespace {

bool networkingVersion(const std::string& api) {
  return api == "networking.istio.io/v1" || api == "networking.istio.io/v1beta1" ||
         api == "networking.istio.io/v1alpha3";
}

bool securityVersion(const std::string& api) {
  return api == "security.istio.io/v1" || api == "security.istio.io/v1beta1";
}

template <typename T>
bool decodeInto(const YAML::Node& doc, FieldReader& r, Meta meta, std::vector<T>* out,
                void (*decode)(const YAML::Node&, FieldReader&, T*), bool whole_doc = false) {
  T resource;
  resource.meta = std::move(meta);
  const YAML::Node spec = doc["spec"];
  if (!isMapNode(spec)) {
    r.error(doc, "spec", "is required and must be a mapping");
    return false;
  }
  decode(whole_doc ? doc : spec, r, &resource);
  if (r.failed()) return false;
  out->push_back(std::move(resource));
  return true;
}

void loadDocument(const YAML::Node& doc, const std::string& file, Resources* out,
                  LoadReport* report) {
  FieldReader top(file, "document", report);
  if (!isMapNode(doc)) {
    top.error(doc, "", "is not a mapping; expected a Kubernetes-style resource");
    return;
  }
  std::string api = scalarAt(doc, "apiVersion");
  std::string kind = scalarAt(doc, "kind");
  if (api.empty() || kind.empty()) {
    top.error(doc, api.empty() ? "apiVersion" : "kind", "is required");
    return;
  }
  Meta meta;
  meta.kind = kind;
  meta.file = file;
  meta.line = lineOf(doc);
  const YAML::Node md = doc["metadata"];
  meta.name = scalarAt(md, "name");
  meta.ns = scalarAt(md, "namespace");
  if (meta.ns.empty()) meta.ns = "default";
  std::string subject = kind + " " + meta.ns + "/" + (meta.name.empty() ? "?" : meta.name);
  FieldReader r(file, subject, report);

  static const char* kNetworking[] = {"ServiceEntry",   "WorkloadEntry",   "WorkloadGroup",
                                      "VirtualService", "DestinationRule", "Sidecar"};
  static const char* kSecurity[] = {"PeerAuthentication", "AuthorizationPolicy",
                                    "RequestAuthentication"};
  auto among = [&](const auto& kinds) {
    return std::any_of(std::begin(kinds), std::end(kinds),
                       [&](const char* k) { return kind == k; });
  };
  bool ours =
      (networkingVersion(api) && among(kNetworking)) || (securityVersion(api) && among(kSecurity));
  if (!ours) {
    r.warn(doc, "", "skipped (" + api + ", not a kind this compiler reads)");
    return;
  }
  if (!isMapNode(md)) {
    r.error(doc, "metadata", "is required");
    report->rejected.push_back(subject);
    return;
  }
  if (meta.name.empty()) r.error(md, "metadata.name", "is required");
  if (md["labels"].IsDefined()) meta.labels = r.labels(md, "metadata", "labels");
  r.known(doc, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  if (r.failed()) {
    report->rejected.push_back(subject);
    return;
  }

  bool ok = false;
  if (kind == "ServiceEntry")
    ok = decodeInto(doc, r, meta, &out->service_entries, decodeServiceEntry);
  else if (kind == "WorkloadEntry")
    ok = decodeInto(doc, r, meta, &out->workload_entries, decodeWorkloadEntry, true);
  else if (kind == "WorkloadGroup")
    ok = decodeInto(doc, r, meta, &out->workload_groups, decodeWorkloadGroup);
  else if (kind == "VirtualService")
    ok = decodeInto(doc, r, meta, &out->virtual_services, decodeVirtualService);
  else if (kind == "DestinationRule")
    ok = decodeInto(doc, r, meta, &out->destination_rules, decodeDestinationRule);
  else if (kind == "Sidecar")
    ok = decodeInto(doc, r, meta, &out->sidecars, decodeSidecar);
  else if (kind == "PeerAuthentication")
    ok = decodeInto(doc, r, meta, &out->peer_authentications, decodePeerAuthentication);
  else if (kind == "AuthorizationPolicy")
    ok = decodeInto(doc, r, meta, &out->authorization_policies, decodeAuthorizationPolicy);
  else if (kind == "RequestAuthentication")
    ok = decodeInto(doc, r, meta, &out->request_authentications, decodeRequestAuthentication);
  if (!ok) report->rejected.push_back(subject);
}

template <typename T>
void restore(const std::vector<T>& previous, const std::vector<std::string>& rejected,
             std::vector<T>* current) {
  for (const auto& old : previous) {
    std::string key = old.meta.kind + " " + old.meta.id();
    if (std::find(rejected.begin(), rejected.end(), key) == rejected.end()) continue;
    bool present = std::any_of(current->begin(), current->end(),
                               [&](const T& c) { return c.meta.id() == old.meta.id(); });
    if (!present) current->push_back(old);
  }
}

}  // namespace

void loadYaml(const std::string& text, const std::string& file, Resources* out,
              LoadReport* report) {
  if (auto refused = checkYamlBounds(text, file)) {
    report->errors.push_back(*refused);
    return;
  }
  std::vector<YAML::Node> docs;
  // yaml-cpp reports syntax errors by throwing; they stop here and become one error line.
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    report->errors.push_back(file + ":" + std::to_string(e.mark.line + 1) +
                             ": invalid YAML: " + e.msg);
    return;
  }
  for (const auto& doc : docs) {
    if (!doc.IsDefined() || doc.IsNull()) continue;
    try {
      loadDocument(doc, file, out, report);
    } catch (const YAML::Exception& e) {
      report->errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
  }
}

Status loadDirectory(const std::string& dir, Resources* out, LoadReport* report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(dir, ec);
  if (ec)
    return makeError(ErrorCode::kIo, Side::kConfig,
                     "config directory " + dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto& p = it->path();
    if (it->is_regular_file() && (p.extension() == ".yaml" || p.extension() == ".yml") &&
        p.filename().string()[0] != '.')
      files.push_back(p);
  }
  if (ec)
    return makeError(ErrorCode::kIo, Side::kConfig,
                     "config directory " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  const YamlLimits limits;
  for (const auto& f : files) {
    // Checked before reading, so a huge file is never loaded into memory.
    if (auto size = fs::file_size(f, ec); !ec && size > limits.max_bytes) {
      report->errors.push_back(f.string() + ":1: the file is " + std::to_string(size) +
                               " bytes, above the limit of " + std::to_string(limits.max_bytes));
      continue;
    }
    auto text = readFile(f.string());
    if (!text) {
      report->errors.push_back(f.string() + ": " + text.error().describe());
      continue;
    }
    loadYaml(*text, f.string(), out, report);
  }
  return {};
}

void keepLastGood(const Resources& previous, const std::vector<std::string>& rejected,
                  Resources* current) {
  restore(previous.service_entries, rejected, &current->service_entries);
  restore(previous.workload_entries, rejected, &current->workload_entries);
  restore(previous.workload_groups, rejected, &current->workload_groups);
  restore(previous.virtual_services, rejected, &current->virtual_services);
  restore(previous.destination_rules, rejected, &current->destination_rules);
  restore(previous.sidecars, rejected, &current->sidecars);
  restore(previous.peer_authentications, rejected, &current->peer_authentications);
  restore(previous.authorization_policies, rejected, &current->authorization_policies);
  restore(previous.request_authentications, rejected, &current->request_authentications);
}

}  // namespace meshnode::istio
