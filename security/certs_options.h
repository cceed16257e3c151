#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace meshnode::security {

enum class CertsCommand { kRoot, kWorkload, kCheck, kHelp };

// Command line of meshnode-certs; see usage().
struct CertsOptions {
  CertsCommand command = CertsCommand::kHelp;
  std::string out_dir;
  std::string root_dir;
  std::string dir;  // check
  std::string trust_domain;
  std::string ns;
  std::string sa;
  std::optional<std::chrono::seconds> lifetime;
  // Test aids, producing the certificates a peer must refuse.
  bool expired = false;
  bool not_yet_valid = false;
  bool no_uri_san = false;
  std::vector<std::string> extra_uri_sans;
};

Result<CertsOptions> parseCertsOptions(int argc, char** argv);
const char* certsUsage();

}  // namespace meshnode::security
