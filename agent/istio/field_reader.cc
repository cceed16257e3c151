#include "agent/istio/field_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace meshnode::istio {

std::string at(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

int lineOf(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  return n.Mark().line + 1;
}

std::optional<int64_t> parseDurationMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(text.substr(start, i - start));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
      ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "h")
      scale = 3600000;
    else if (unit == "m")
      scale = 60000;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "us" || unit == "µs")
      scale = 0.001;
    else if (unit == "ns")
      scale = 0.000001;
    else
      return std::nullopt;
    total_ms += value * scale;
  }
  if (total_ms > 1e15) return std::nullopt;
  return static_cast<int64_t>(std::llround(total_ms));
}

FieldReader::FieldReader(std::string file, std::string subject, LoadReport* report)
    : file_(std::move(file)), subject_(std::move(subject)), report_(report) {}

std::string FieldReader::where(const YAML::Node& near, const std::string& path) const {
  std::string out = file_;
  if (int line = lineOf(near); line > 0) out += ":" + std::to_string(line);
  out += ": " + subject_;
  if (!path.empty()) out += ": " + path;
  return out;
}

void FieldReader::error(const YAML::Node& near, const std::string& path, const std::string& what) {
  ++errors_;
  report_->errors.push_back(where(near, path) + ": " + what);
}

void FieldReader::warn(const YAML::Node& near, const std::string& path, const std::string& what) {
  report_->warnings.push_back(where(near, path) + ": " + what);
}

bool FieldReader::isMap(const YAML::Node& n, const std::string& path) {
  if (isMapNode(n)) return true;
  error(n, path, "must be a mapping");
  return false;
}

bool FieldReader::isSeq(const YAML::Node& n, const std::string& path) {
  if (isSeqNode(n)) return true;
  error(n, path, "must be a list");
  return false;
}

void FieldReader::known(const YAML::Node& map, const std::string& path,
                        std::initializer_list<const char*> keys) {
  if (!isMapNode(map)) return;
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; }))
      warn(kv.first, path.empty() ? key : path + "." + key, "unknown field, ignored");
  }
}

void FieldReader::notApplied(const YAML::Node& map, const std::string& path,
                             std::initializer_list<const char*> keys) {
  if (!isMapNode(map)) return;
  for (const char* k : keys)
    if (map[k].IsDefined())
      warn(map[k], path.empty() ? k : path + "." + k, "is not applied by meshnode, ignored");
}

std::optional<std::string> FieldReader::str(const YAML::Node& map, const std::string& path,
                                            const char* key, bool required) {
  const YAML::Node n = map[key];
  std::string p = path + "." + key;
  if (!n.IsDefined() || n.IsNull()) {
    if (required) error(map, p, "is required");
    return std::nullopt;
  }
  if (!n.IsScalar()) {
    error(n, p, "must be a string");
    return std::nullopt;
  }
  if (required && n.Scalar().empty()) {
    error(n, p, "is required");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<uint64_t> FieldReader::u64(const YAML::Node& map, const std::string& path,
                                         const char* key, uint64_t min, uint64_t max) {
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  std::string p = path + "." + key;
  const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), ::isdigit)) {
    error(n, p, "must be a non-negative integer");
    return std::nullopt;
  }
  uint64_t v = std::stoull(s);
  if (v < min || v > max) {
    error(n, p, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<uint32_t> FieldReader::u32(const YAML::Node& map, const std::string& path,
                                         const char* key, uint32_t min, uint32_t max,
                                         bool required) {
  if (required && (!map[key].IsDefined() || map[key].IsNull())) {
    error(map, path + "." + key, "is required");
    return std::nullopt;
  }
  auto v = u64(map, path, key, min, max);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<double> FieldReader::number(const YAML::Node& map, const std::string& path,
                                          const char* key, double min, double max) {
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  std::string p = path + "." + key;
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || std::isnan(v)) {
    error(n, p, "must be a number");
    return std::nullopt;
  }
  if (v < min || v > max) {
    error(n, p,
          "must be between " + std::to_string(static_cast<int64_t>(min)) + " and " +
              std::to_string(static_cast<int64_t>(max)));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> FieldReader::boolean(const YAML::Node& map, const std::string& path,
                                         const char* key) {
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    error(n, path + "." + key, "must be true or false");
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> FieldReader::duration(const YAML::Node& map, const std::string& path,
                                             const char* key, int64_t min_ms) {
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  std::string p = path + "." + key;
  auto ms = n.IsScalar() ? parseDurationMs(n.Scalar()) : std::nullopt;
  if (!ms) {
    error(n, p,
          "\"" + (n.IsScalar() ? n.Scalar() : std::string("?")) +
              "\" is not a duration such as 500ms, 2s or 1m");
    return std::nullopt;
  }
  if (*ms < min_ms) {
    error(n, p, "must be at least " + std::to_string(min_ms) + "ms");
    return std::nullopt;
  }
  return ms;
}

std::vector<std::string> FieldReader::strings(const YAML::Node& map, const std::string& path,
                                              const char* key) {
  std::vector<std::string> out;
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return out;
  std::string p = path + "." + key;
  if (!isSeq(n, p)) return out;
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar())
      error(n[i], at(p, i), "must be a string");
    else
      out.push_back(n[i].Scalar());
  }
  return out;
}

Labels FieldReader::labels(const YAML::Node& map, const std::string& path, const char* key) {
  Labels out;
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return out;
  std::string p = path + "." + key;
  if (!isMap(n, p)) return out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar())
      error(kv.second, p + "." + kv.first.Scalar(), "must be a string");
    else
      out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

std::optional<size_t> FieldReader::choice(const YAML::Node& map, const std::string& path,
                                          const char* key,
                                          std::initializer_list<const char*> names) {
  auto v = str(map, path, key);
  if (!v) return std::nullopt;
  size_t i = 0;
  for (const char* name : names) {
    if (*v == name) return i;
    ++i;
  }
  std::string list;
  for (const char* name : names)
    list += std::string(list.empty() ? "" : ", ") + name;
  error(map[key], path + "." + key, "\"" + *v + "\" is not one of: " + list);
  return std::nullopt;
}

}  // namespace meshnode::istio
