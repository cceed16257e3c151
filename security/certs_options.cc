#include "security/certs_options.h"

#include <charconv>
#include <string_view>

namespace meshnode::security {

const char* certsUsage() {
  return R"(usage:
  meshnode-certs root --out DIR [--trust-domain TD] [--days N]
      Creates a mesh root CA: DIR/root-cert.pem, DIR/root-key.pem (0600).
      Defaults: trust domain cluster.local, 365 days.
  meshnode-certs workload --root DIR --ns NS --sa SA --out DIR [--days N | --hours N]
                          [--trust-domain TD]
      Issues an ECDSA P-256 workload certificate for spiffe://TD/ns/NS/sa/SA signed by the
      root in --root: DIR/cert-chain.pem, DIR/key.pem (0600), DIR/root-cert.pem.
      Defaults: the root's trust domain, 24 hours.
  meshnode-certs check --dir DIR
      Validates DIR/cert-chain.pem, key.pem and root-cert.pem as the proxy does and prints the
      identity and the seconds left.

test aids (workload only; they make certificates a mesh peer must refuse):
  --expired            validity ended an hour ago
  --not-yet-valid      validity starts in an hour
  --no-uri-san         no subjectAltName at all
  --extra-uri-san URI  a further URI SAN after the SPIFFE ID (repeatable)
  --trust-domain TD    a trust domain other than the root's
)";
}

namespace {

Error usageError(std::string detail) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig, std::move(detail));
}

Result<long> positive(std::string_view flag, std::string_view text) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value <= 0 || value > 36500 * 24) {
    return usageError(std::string(flag) + " '" + std::string(text) +
                      "': expected a positive number");
  }
  return value;
}

}  // namespace

Result<CertsOptions> parseCertsOptions(int argc, char** argv) {
  CertsOptions o;
  if (argc < 2) return o;
  std::string_view cmd = argv[1];
  if (cmd == "root") {
    o.command = CertsCommand::kRoot;
  } else if (cmd == "workload") {
    o.command = CertsCommand::kWorkload;
  } else if (cmd == "check") {
    o.command = CertsCommand::kCheck;
  } else if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    return o;
  } else {
    return usageError("unknown command '" + std::string(cmd) + "'");
  }
  for (int i = 2; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return usageError(std::string(flag) + " needs a value");
      return std::string(argv[++i]);
    };
    auto take = [&](std::string* into) -> Status {
      auto v = value();
      if (!v) return v.error();
      *into = std::move(v).value();
      return {};
    };
    Status st;
    if (flag == "--out") {
      st = take(&o.out_dir);
    } else if (flag == "--root") {
      st = take(&o.root_dir);
    } else if (flag == "--dir") {
      st = take(&o.dir);
    } else if (flag == "--trust-domain") {
      st = take(&o.trust_domain);
    } else if (flag == "--ns") {
      st = take(&o.ns);
    } else if (flag == "--sa") {
      st = take(&o.sa);
    } else if (flag == "--days" || flag == "--hours") {
      if (o.lifetime) return usageError("give one of --days and --hours");
      auto v = value();
      if (!v) return v.error();
      auto n = positive(flag, *v);
      if (!n) return n.error();
      o.lifetime = std::chrono::hours(flag == "--days" ? *n * 24 : *n);
    } else if (flag == "--expired") {
      o.expired = true;
    } else if (flag == "--not-yet-valid") {
      o.not_yet_valid = true;
    } else if (flag == "--no-uri-san") {
      o.no_uri_san = true;
    } else if (flag == "--extra-uri-san") {
      std::string uri;
      st = take(&uri);
      o.extra_uri_sans.push_back(std::move(uri));
    } else {
      return usageError("unknown flag '" + std::string(flag) + "'");
    }
    if (!st) return st.error();
  }
  switch (o.command) {
    case CertsCommand::kRoot:
      if (o.out_dir.empty()) return usageError("root: --out DIR is required");
      break;
    case CertsCommand::kWorkload:
      if (o.root_dir.empty() || o.out_dir.empty() || o.ns.empty() || o.sa.empty()) {
        return usageError("workload: --root, --ns, --sa and --out are required");
      }
      if (o.expired && o.not_yet_valid) {
        return usageError("give one of --expired and --not-yet-valid");
      }
      break;
    case CertsCommand::kCheck:
      if (o.dir.empty()) return usageError("check: --dir DIR is required");
      break;
    case CertsCommand::kHelp:
      break;
  }
  bool test_aid = o.expired || o.not_yet_valid || o.no_uri_san || !o.extra_uri_sans.empty();
  if (test_aid && o.command != CertsCommand::kWorkload) {
    return usageError("test aids apply to the workload command only");
  }
  return o;
}

}  // namespace meshnode::security
