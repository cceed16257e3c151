#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/cli/compile_options.h"
#include "agent/compiler/compiler.h"
#include "agent/istio/loader.h"
#include "common/log.h"
#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::agent::cli {

int runCompile(int argc, char** argv) {
  auto options = parseCompileOptions(argc, argv);
  if (!options) {
    LOG_ERROR("%s", options.error().detail.c_str());
    std::fputs(kCompileUsage, stderr);
    return 64;  // EX_USAGE
  }
  istio::Resources resources;
  istio::LoadReport report;
  if (auto st = istio::loadDirectory(options->config_dir, &resources, &report); !st) {
    LOG_ERROR("%s", st.error().detail.c_str());
    return 66;  // EX_NOINPUT
  }
  for (const auto& e : report.errors)
    LOG_ERROR("%s", e.c_str());
  for (const auto& w : report.warnings)
    LOG_WARN("%s", w.c_str());

  compiler::CompileInput input;
  input.resources = &resources;
  input.node = options->node;
  input.resolved = options->resolved;
  input.options = options->mesh;
  input.security = options->security;
  auto out = compiler::compileSnapshot(input);
  if (!out) {
    LOG_ERROR("%s", out.error().detail.c_str());
    return 78;  // EX_CONFIG
  }
  for (const auto& w : out->warnings)
    LOG_WARN("%s", w.c_str());
  // The proxy is the judge of the contract: print nothing it would refuse.
  if (auto parsed = proxy::parseSnapshot(out->json, "compiled snapshot"); !parsed) {
    LOG_ERROR("%s", parsed.error().detail.c_str());
    return 70;  // EX_SOFTWARE
  }
  std::fwrite(out->json.data(), 1, out->json.size(), stdout);
  return report.errors.empty() ? 0 : 65;  // EX_DATAERR
}

}  // namespace meshnode::agent::cli
