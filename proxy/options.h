#pragma once

#include <string>

#include "common/result.h"
#include "proxy/server/server.h"

namespace meshnode::proxy {

struct ProxyOptions {
  ServerOptions server;
  std::string log_level = "info";
  bool check_only = false;  // --check: validate the snapshot and exit
};

// Parses the command line; an error names the flag and is meant to be printed with usage.
Result<ProxyOptions> parseOptions(int argc, char** argv);
const char* usage();

}  // namespace meshnode::proxy
