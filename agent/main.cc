#include <cstdio>
#include <cstring>

#include "agent/cli/commands.h"
#include "common/log.h"

namespace {

void usage(FILE* out) {
  std::fputs("usage: meshnode-agent <command> [options]\n\ncommands:\n", out);
  for (const auto& c : meshnode::agent::cli::kCommands)
    std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  meshnode::log::setProgram("meshnode-agent");
  if (argc < 2) {
    usage(stderr);
    return 64;  // EX_USAGE
  }
  if (!std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help")) {
    usage(stdout);
    return 0;
  }
  for (const auto& c : meshnode::agent::cli::kCommands)
    if (!std::strcmp(argv[1], c.name)) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "meshnode-agent: unknown command \"%s\"\n", argv[1]);
  usage(stderr);
  return 64;
}
