#include "tests/integration/agent_tools/tools.h"

namespace meshnode::agent::testtool {

int runRegistry(int, char**) {
  return 64;
}

}  // namespace meshnode::agent::testtool
