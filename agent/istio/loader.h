#pragma once

#include <string>

#include "agent/istio/field_reader.h"
#include "agent/istio/resource.h"
#include "common/result.h"

namespace meshnode::istio {

// Reads Istio manifests: multi-document YAML of networking.istio.io (v1, v1beta1, v1alpha3) and
// security.istio.io (v1, v1beta1) resources. Each resource is validated on its own; an invalid
// one is reported in `report->errors` and left out while the rest load. Kinds this compiler does
// not use (Gateway, Kubernetes objects) are noted in `report->warnings` and skipped. A file that
// is not YAML at all, or is bigger or more deeply nested than YamlLimits allows, is one error
// naming its line.
void loadYaml(const std::string& text, const std::string& file, Resources* out, LoadReport* report);

// Loads every *.yaml and *.yml file under `dir` (recursively, in path order). Fails only when
// the directory itself cannot be read.
Status loadDirectory(const std::string& dir, Resources* out, LoadReport* report);

// Puts back, from `previous`, each resource named in `rejected` ("Kind namespace/name"), so a
// reload with one broken manifest keeps applying that resource's last good version.
void keepLastGood(const Resources& previous, const std::vector<std::string>& rejected,
                  Resources* current);

}  // namespace meshnode::istio
