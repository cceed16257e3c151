#include "agent/daemon/group_probe.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "agent/istio/yaml_bounds.h"
#include "common/file.h"

namespace meshnode::agent::daemon {
namespace {

// YAML scalars carry no type of their own in yaml-cpp; Kubernetes' probe fields are integers,
// booleans or strings, so a scalar that reads as an integer is one (unless it was quoted).
nlohmann::json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& kv : node)
        out[kv.first.as<std::string>()] = toJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (const auto& item : node)
        out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() != "!") {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return n;
        if (s == "true") return true;
        if (s == "false") return false;
      }
      return s;
    }
    default:
      return nullptr;
  }
}

}  // namespace

Result<std::optional<Probe>> findGroupProbe(const std::string& directory, const std::string& group,
                                            const std::string& name_space) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(directory, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto ext = it->path().extension();
    if (it->is_regular_file(ec) && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto text = readFile(file.string());
    // Too big or too deep for yaml-cpp: the loader refused and reported this file already.
    if (!text || istio::checkYamlBounds(*text, file.string())) continue;
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(*text);
    } catch (const YAML::Exception&) {
      continue;  // the loader already reported this file with its line
    }
    for (const auto& doc : docs) {
      try {
        if (!doc.IsMap() || !doc["kind"] || doc["kind"].as<std::string>() != "WorkloadGroup")
          continue;
        auto meta = doc["metadata"];
        if (!meta || !meta["name"] || meta["name"].as<std::string>() != group) continue;
        std::string ns = meta["namespace"] ? meta["namespace"].as<std::string>() : "default";
        if (ns != name_space) continue;
        auto probe = doc["spec"] ? doc["spec"]["probe"] : YAML::Node();
        if (!probe) return std::optional<Probe>();
        std::string where = file.string() + ":" + std::to_string(probe.Mark().line + 1) +
                            ": WorkloadGroup " + ns + "/" + group + ": spec.probe";
        auto parsed = parseProbe(toJson(probe), where);
        if (!parsed) return parsed.error();
        return std::optional<Probe>(std::move(*parsed));
      } catch (const YAML::Exception& e) {
        return makeError(ErrorCode::kParse, Side::kConfig, file.string() + ": " + e.what());
      }
    }
  }
  return std::optional<Probe>();
}

}  // namespace meshnode::agent::daemon
