#include "proxy/options.h"

#include <charconv>
#include <string_view>

namespace meshnode::proxy {
namespace {

Error bad(const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig, what);
}

bool toNumber(std::string_view text, long long min, long long max, long long* out) {
  long long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

const char* usage() {
  return "usage: meshnode-proxy --snapshot FILE [--concurrency N] [--drain-timeout-ms MS]\n"
         "                      [--admin-address ADDR] [--admin-port PORT]\n"
         "                      [--log-level error|warning|notice|info|debug] [--check]\n"
         "Serves a compiled snapshot (docs/snapshot.md). SIGHUP reloads the file; an invalid\n"
         "one is refused and the old one keeps serving. SIGTERM drains and exits.\n";
}

Result<ProxyOptions> parseOptions(int argc, char** argv) {
  ProxyOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    std::string_view value;
    if (auto eq = flag.find('='); eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (flag != "--check" && flag != "--help") {
      if (i + 1 >= argc) return bad(std::string(flag) + " needs a value");
      value = argv[++i];
    }
    long long n = 0;
    if (flag == "--snapshot") {
      o.server.snapshot_path = value;
    } else if (flag == "--concurrency") {
      if (!toNumber(value, 0, 1024, &n)) return bad("--concurrency must be 0..1024");
      o.server.concurrency = static_cast<int>(n);
    } else if (flag == "--drain-timeout-ms") {
      if (!toNumber(value, 0, 3600000, &n)) return bad("--drain-timeout-ms must be 0..3600000");
      o.server.drain_timeout = Millis(n);
    } else if (flag == "--admin-address") {
      o.server.admin_address = value;
    } else if (flag == "--admin-port") {
      if (!toNumber(value, 0, 65535, &n)) return bad("--admin-port must be 0..65535");
      o.server.admin_port = static_cast<uint16_t>(n);
    } else if (flag == "--log-level") {
      o.log_level = value;
    } else if (flag == "--check") {
      o.check_only = true;
    } else if (flag == "--help") {
      return bad("help");
    } else {
      return bad("unknown flag " + std::string(flag));
    }
  }
  if (o.server.snapshot_path.empty()) return bad("--snapshot is required");
  return o;
}

}  // namespace meshnode::proxy
