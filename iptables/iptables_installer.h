#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "iptables/capture.h"
#include "iptables/executor.h"
#include "iptables/iptables_render.h"

namespace meshnode::iptables {

// Both families in iptables-restore form with a header naming the tool that loads each.
std::string renderIptablesPrint(const RuleSet& set);

// The capture through iptables-restore, legacy or nf_tables flavour. Each family's change is
// one `restore --noflush` commit; when any step fails, every family already changed is put
// back to the `iptables-save -c` output taken before.
class IptablesInstaller {
 public:
  IptablesInstaller(CommandExecutor& executor, bool nft_flavour);

  Result<bool> apply(const RuleSet& set, Fault fault);
  Result<bool> cleanup();
  Result<std::vector<std::string>> verify(const RuleSet& set);

 private:
  struct FamilyState {
    Family family = Family::kIPv4;
    bool wanted = false;  // the rule set covers this family
    std::string saved;    // `save -c -t nat` output, empty when the table does not exist
    NatState live;
    NatState expected;
    bool touched = false;
  };

  std::string tool(Family family, const char* what) const;
  Result<std::string> save(Family family);
  Status restore(Family family, const std::string& input, bool noflush);
  // Reads both families; a family the rule set leaves out may be unreadable (no IPv6).
  Result<std::vector<FamilyState>> snapshot(const RuleSet* set);
  Status rollback(std::vector<FamilyState>& states);

  CommandExecutor& executor_;
  bool nft_flavour_;
};

}  // namespace meshnode::iptables
