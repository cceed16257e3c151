#include <cstdio>

#include <sysexits.h>

#include "common/log.h"
#include "proxy/options.h"
#include "proxy/server/server.h"
#include "proxy/snapshot/snapshot_json.h"

using namespace meshnode;

int main(int argc, char** argv) {
  log::setProgram("meshnode-proxy");
  auto options = proxy::parseOptions(argc, argv);
  if (!options) {
    if (options.error().detail != "help")
      std::fprintf(stderr, "meshnode-proxy: %s\n", options.error().detail.c_str());
    std::fputs(proxy::usage(), stderr);
    return options.error().detail == "help" ? 0 : EX_USAGE;
  }
  log::Level level;
  if (!log::parseLevel(options->log_level, &level)) {
    std::fprintf(stderr, "meshnode-proxy: --log-level: unknown level %s\n",
                 options->log_level.c_str());
    return EX_USAGE;
  }
  log::setLevel(level);

  if (options->check_only) {
    auto snap = proxy::loadSnapshotFile(options->server.snapshot_path);
    if (!snap) {
      std::fprintf(stderr, "meshnode-proxy: %s\n", snap.error().detail.c_str());
      return EX_CONFIG;
    }
    std::printf("%s: snapshot %s is valid\n", options->server.snapshot_path.c_str(),
                (*snap)->version.c_str());
    return 0;
  }

  proxy::Server server(options->server);
  if (auto st = server.start(); !st) {
    LOG_ERROR("cannot start: %s", st.error().detail.c_str());
    return st.error().side == Side::kConfig || st.error().code == ErrorCode::kParse ? EX_CONFIG
                                                                                    : EX_OSERR;
  }
  return server.run();
}
