#include "agent/cli/compile_options.h"

#include <string_view>

namespace meshnode::agent::cli {
namespace {

Error usage(const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "compile: " + what);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    std::string item =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<istio::Labels> parseLabelList(const std::string& text) {
  istio::Labels out;
  for (const auto& item : split(text, ',')) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage("--node-labels: \"" + item + "\" is not key=value");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

Result<CompileOptions> parseCompileOptions(int argc, char** argv) {
  CompileOptions o;
  bool have_ns = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](const char* name) -> Result<std::string> {
      if (i + 1 >= argc) return usage(std::string(name) + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--registry-only") {
      o.mesh.registry_only = true;
      continue;
    }
    if (arg != "--config-dir" && arg != "--node-ns" && arg != "--node-labels" &&
        arg != "--node-ip" && arg != "--workload-group" && arg != "--resolve" &&
        arg != "--domain-suffix" && arg != "--root-namespace" && arg != "--certs-dir" &&
        arg != "--path-normalization")
      return usage("unknown option " + std::string(arg));
    auto v = value(argv[i]);
    if (!v) return Error(v.error());
    if (arg == "--config-dir") {
      o.config_dir = *v;
    } else if (arg == "--node-ns") {
      o.node.ns = *v;
      have_ns = true;
    } else if (arg == "--node-labels") {
      auto labels = parseLabelList(*v);
      if (!labels) return Error(labels.error());
      o.node.labels = *labels;
    } else if (arg == "--node-ip") {
      o.node.ip = *v;
    } else if (arg == "--domain-suffix") {
      o.mesh.domain_suffix = *v;
    } else if (arg == "--root-namespace") {
      o.mesh.root_namespace = *v;
    } else if (arg == "--certs-dir") {
      std::string dir = *v;
      while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
      o.security.cert_chain = dir + "/cert-chain.pem";
      o.security.key = dir + "/key.pem";
      o.security.root_cert = dir + "/root-cert.pem";
    } else if (arg == "--path-normalization") {
      if (*v != "NONE" && *v != "BASE" && *v != "MERGE_SLASHES" && *v != "DECODE_AND_MERGE_SLASHES")
        return usage("--path-normalization: \"" + *v +
                     "\" is not one of NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES");
      o.mesh.path_normalization = *v;
    } else if (arg == "--workload-group") {
      o.node.workload_group = *v;
    } else {
      size_t eq = v->find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v->size())
        return usage("--resolve: \"" + *v + "\" is not HOST=IP[,IP...]");
      o.resolved[v->substr(0, eq)] = split(v->substr(eq + 1), ',');
    }
  }
  if (o.config_dir.empty()) return usage("--config-dir is required");
  if (!have_ns) return usage("--node-ns is required");
  if (o.node.ip.empty()) return usage("--node-ip is required");
  return o;
}

}  // namespace meshnode::agent::cli
