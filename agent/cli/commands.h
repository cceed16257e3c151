#pragma once

#include "agent/cli/check.h"

// The subcommands of meshnode-agent. Each lives in agent/cli/<name>.cc; adding one is a
// declaration and a line in kCommands.
namespace meshnode::agent::cli {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);  // argv[0] is the subcommand's name
  const char* summary;
};

int runCompile(int argc, char** argv);
int runRun(int argc, char** argv);

inline constexpr Command kCommands[] = {
    {"check", meshnode::agent::runCheck, "validate agent.toml and what it points at"},
    {"compile", runCompile, "print the proxy snapshot compiled for a node"},
    {"run", runRun, "run the agent: capture, DNS, registration, the supervised proxy"},
};

}  // namespace meshnode::agent::cli
