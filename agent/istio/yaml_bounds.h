#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// Limits checked on a manifest's text before yaml-cpp sees it: yaml-cpp recurses once per level
// of nesting and walks an alias once per use, so deep nesting or a web of aliases (a "billion
// laughs" document) costs time and memory far beyond the file's size. The scan is one pass over
// the bytes and needs no parser.
namespace meshnode::istio {

struct YamlLimits {
  size_t max_bytes = 4 * 1024 * 1024;
  int max_depth = 64;     // block indentation levels, "- " entries and flow [ { together
  int max_aliases = 100;  // *alias uses per file; Kubernetes manifests hardly ever use one
};

// nullopt when `text` is within the limits; otherwise the error, "file:line: why".
std::optional<std::string> checkYamlBounds(std::string_view text, const std::string& file,
                                           const YamlLimits& limits = {});

}  // namespace meshnode::istio
