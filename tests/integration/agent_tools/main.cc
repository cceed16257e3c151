// meshnode-agent-testtool: runs one agent service alone, the way the agent would, so the
// integration tests can put real peers (dnsmasq, dig, nginx) in front of it.
#include <cstdio>
#include <cstring>

#include "tests/integration/agent_tools/tools.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: meshnode-agent-testtool dns|registry|notify [options]\n");
    return 64;
  }
  if (std::strcmp(argv[1], "dns") == 0)
    return meshnode::agent::testtool::runDns(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "registry") == 0) {
    return meshnode::agent::testtool::runRegistry(argc - 1, argv + 1);
  }
  if (std::strcmp(argv[1], "notify") == 0) {
    return meshnode::agent::testtool::runNotify(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "unknown tool '%s'\n", argv[1]);
  return 64;
}
