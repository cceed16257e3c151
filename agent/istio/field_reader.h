#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/istio/resource.h"

namespace meshnode::istio {

// What loading reported: errors reject a resource (or a whole file), warnings do not.
struct LoadReport {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  // "Kind namespace/name" of every resource left out, so a caller can keep its last good copy.
  std::vector<std::string> rejected;
};

// Reads the fields of one resource, keeping for every complaint the manifest line it is about:
// "mesh.yaml:12: VirtualService default/reviews: spec.http[0].route[0].destination.host: is
// required". Unknown fields are warned about, never dropped silently. Runs at config time only.
class FieldReader {
 public:
  FieldReader(std::string file, std::string subject, LoadReport* report);

  bool failed() const { return errors_ > 0; }
  void error(const YAML::Node& near, const std::string& path, const std::string& what);
  void warn(const YAML::Node& near, const std::string& path, const std::string& what);

  bool isMap(const YAML::Node& n, const std::string& path);
  bool isSeq(const YAML::Node& n, const std::string& path);
  void known(const YAML::Node& map, const std::string& path,
             std::initializer_list<const char*> keys);

  // Fields Istio documents that this compiler does not apply: each present one is warned about.
  void notApplied(const YAML::Node& map, const std::string& path,
                  std::initializer_list<const char*> keys);

  std::optional<std::string> str(const YAML::Node& map, const std::string& path, const char* key,
                                 bool required = false);
  std::optional<uint32_t> u32(const YAML::Node& map, const std::string& path, const char* key,
                              uint32_t min, uint32_t max, bool required = false);
  std::optional<uint64_t> u64(const YAML::Node& map, const std::string& path, const char* key,
                              uint64_t min, uint64_t max);
  std::optional<double> number(const YAML::Node& map, const std::string& path, const char* key,
                               double min, double max);
  std::optional<bool> boolean(const YAML::Node& map, const std::string& path, const char* key);
  // A duration in Go's notation ("1h", "2.5s", "1m30s", "100ms"), in milliseconds.
  std::optional<int64_t> duration(const YAML::Node& map, const std::string& path, const char* key,
                                  int64_t min_ms = 0);
  std::vector<std::string> strings(const YAML::Node& map, const std::string& path, const char* key);
  Labels labels(const YAML::Node& map, const std::string& path, const char* key);
  // An upper-case enum value; returns the index into `names`, or nullopt (and an error).
  std::optional<size_t> choice(const YAML::Node& map, const std::string& path, const char* key,
                               std::initializer_list<const char*> names);

 private:
  std::string where(const YAML::Node& near, const std::string& path) const;

  std::string file_;
  std::string subject_;
  LoadReport* report_;
  int errors_ = 0;
};

// yaml-cpp throws when asked the type of a key that is absent; these ask safely.
inline bool isMapNode(const YAML::Node& n) {
  return n.IsDefined() && n.IsMap();
}
inline bool isSeqNode(const YAML::Node& n) {
  return n.IsDefined() && n.IsSequence();
}
inline bool isScalarNode(const YAML::Node& n) {
  return n.IsDefined() && n.IsScalar();
}
// The scalar under `key` of a mapping, or "" when absent or not a scalar.
inline std::string scalarAt(const YAML::Node& map, const char* key) {
  if (!isMapNode(map)) return "";
  const YAML::Node n = map[key];
  return isScalarNode(n) ? n.Scalar() : "";
}

// "spec.http[3]"
std::string at(const std::string& path, size_t index);
// 1-based line of a node, or 0 when the node does not exist in the text.
int lineOf(const YAML::Node& n);
// Parses Go's duration notation into milliseconds.
std::optional<int64_t> parseDurationMs(const std::string& text);

}  // namespace meshnode::istio
