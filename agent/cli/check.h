#pragma once

namespace meshnode::agent {

// `meshnode-agent check [--config PATH] [--syntax-only]`: validates agent.toml and what it
// points at, prints every problem as "file:line:column: key: message", and returns 0 when
// all is well, 64 (EX_USAGE) for a bad command line, 78 (EX_CONFIG) for problems.
int runCheck(int argc, char** argv);

}  // namespace meshnode::agent
