#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "iptables/capture.h"
#include "iptables/executor.h"

namespace meshnode::iptables {

// The capture as native nftables: the `inet meshnode` table, replaced by one `nft -f`
// transaction and put back to its previous listing (or removed) when the check after fails.
class NftInstaller {
 public:
  explicit NftInstaller(CommandExecutor& executor);

  Result<bool> apply(const RuleSet& set, Fault fault);
  Result<bool> cleanup();
  Result<std::vector<std::string>> verify(const RuleSet& set);

 private:
  // The live table's listing, or an empty string when the table does not exist.
  Result<std::string> live();
  Status load(const std::string& input);

  CommandExecutor& executor_;
};

// Lines of `expected` missing from `live` and lines of `live` not in `expected`.
std::vector<std::string> diffNftTable(const std::string& live, const std::string& expected);

}  // namespace meshnode::iptables
