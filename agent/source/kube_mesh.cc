#include "agent/source/kube_mesh.h"

#include <set>

#include "agent/istio/loader.h"
#include "agent/source/kube_objects.h"

namespace meshnode::agent::source {
namespace {

using Json = nlohmann::json;

// JSON is YAML: the loader reads the object as it reads a manifest, and an indented dump gives
// each field a line of its own for the diagnostic to name.
std::string yamlText(const Json& object) {
  return object.dump(2) + "\n";
}

}  // namespace

void KubeMeshBuilder::judge(const std::string& source, const std::string& text,
                            KubeMeshLoad* load) {
  Verdict& v = verdicts_[source];
  if (v.text == text) return;
  v.text = text;
  istio::Resources alone;
  istio::LoadReport report;
  istio::loadYaml(text, source, &alone, &report);
  for (auto& w : report.warnings)
    load->warnings.push_back(std::move(w));
  if (report.errors.empty() && report.rejected.empty()) {
    v.good = text;
    return;
  }
  for (auto& e : report.errors)
    load->errors.push_back(std::move(e));
  load->errors.push_back(source + ": rejected; " +
                         (v.good ? "its last good version keeps applying"
                                 : "it has no earlier good version, so it is left out"));
}

KubeMeshLoad KubeMeshBuilder::build(const KubeObjectStore::ByKind& objects) {
  KubeMeshLoad load;
  std::set<std::string> present;
  auto judgeOne = [&](const std::string& source, const std::string& text) {
    present.insert(source);
    judge(source, text, &load);
  };

  // EndpointSlices by the Service they belong to.
  std::map<std::string, std::vector<const Json*>> slices;
  if (auto it = objects.find(kEndpointSliceKind); it != objects.end())
    for (const auto& [key, slice] : it->second) {
      std::string ns = key.substr(0, key.find('/'));
      const Json labels = slice.value("metadata", Json::object()).value("labels", Json::object());
      if (!labels.is_object()) continue;
      auto service = labels.find("kubernetes.io/service-name");
      if (service != labels.end() && service->is_string())
        slices[ns + "/" + service->get<std::string>()].push_back(&slice);
    }

  for (const auto& [kind, of_kind] : objects) {
    if (kind == kEndpointSliceKind) continue;
    for (const auto& [key, object] : of_kind) {
      std::string ns = key.substr(0, key.find('/'));
      std::string name = key.substr(key.find('/') + 1);
      std::string source = kubeSourceName(kind, ns, name);
      if (kind != kServiceKind) {
        judgeOne(source, yamlText(object));
        continue;
      }
      auto se = serviceEntryFor(object, slices[key], domain_suffix_);
      if (!se) {
        // Judged like a loader error: the last good ServiceEntry of this Service stays.
        present.insert(source);
        Verdict& v = verdicts_[source];
        std::string text = "invalid: " + se.error().detail;
        if (v.text != text) {
          v.text = text;
          load.errors.push_back(se.error().detail);
          load.errors.push_back(source + ": rejected; " +
                                (v.good ? "its last good version keeps applying"
                                        : "it has no earlier good version, so it is left out"));
        }
        continue;
      }
      if (se->is_null()) continue;
      judgeOne(source, yamlText(*se));
    }
  }

  std::erase_if(verdicts_, [&](const auto& kv) { return !present.count(kv.first); });
  istio::LoadReport again;
  for (const auto& [source, v] : verdicts_)
    if (v.good) istio::loadYaml(*v.good, source, &load.resources, &again);
  return load;
}

}  // namespace meshnode::agent::source
