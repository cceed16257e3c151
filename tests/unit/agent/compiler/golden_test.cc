#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "agent/cli/compile_options.h"
#include "agent/compiler/compiler.h"
#include "agent/istio/loader.h"
#include "common/file.h"
#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::compiler {
namespace {

const std::string kSource = MESHNODE_SOURCE_DIR;

std::vector<std::string> corpusArgs() {
  std::ifstream in(kSource + "/tests/golden/compiler/corpus.args");
  std::vector<std::string> args = {"compile"};
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') args.push_back(line);
  return args;
}

// The corpus under tests/corpus/istio compiles without an error into exactly the golden
// snapshot. After an intended change: tests/golden/compiler/regenerate.sh, then review the diff.
TEST(GoldenTest, CorpusCompilesToTheGoldenSnapshot) {
  std::vector<std::string> args = corpusArgs();
  ASSERT_GT(args.size(), 4u);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  auto options = agent::cli::parseCompileOptions(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(options.ok()) << options.error().describe();

  // Relative paths, as regenerate.sh runs: policies carry their file in `origin`.
  std::filesystem::current_path(kSource);
  istio::Resources resources;
  istio::LoadReport report;
  ASSERT_TRUE(istio::loadDirectory(options->config_dir, &resources, &report).ok());
  for (const auto& e : report.errors)
    ADD_FAILURE() << e;
  size_t count = resources.service_entries.size() + resources.workload_entries.size() +
                 resources.workload_groups.size() + resources.virtual_services.size() +
                 resources.destination_rules.size() + resources.sidecars.size();
  EXPECT_GE(count, 30u);
  EXPECT_GE(resources.sidecars.size(), 1u);
  EXPECT_GE(resources.workload_groups.size(), 1u);
  EXPECT_GE(resources.peer_authentications.size() + resources.authorization_policies.size() +
                resources.request_authentications.size(),
            8u);

  CompileInput input;
  input.resources = &resources;
  input.node = options->node;
  input.resolved = options->resolved;
  input.options = options->mesh;
  input.security = options->security;
  auto out = compileSnapshot(input);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  auto parsed = proxy::parseSnapshot(out->json, "corpus");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();

  auto golden = readFile(kSource + "/tests/golden/compiler/corpus_snapshot.json");
  ASSERT_TRUE(golden.ok()) << golden.error().describe();
  EXPECT_TRUE(*golden == out->json)
      << "the compiled corpus differs from tests/golden/compiler/corpus_snapshot.json; "
         "run tests/golden/compiler/regenerate.sh and review the diff";
}

}  // namespace
}  // namespace meshnode::compiler
