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
// back to the nat table `iptables-save -c` showed before.
class IptablesInstaller {
 public:
  // `state_dir` keeps a note of the nf_tables `nat` tables meshnode created (iptables-nft).
  IptablesInstaller(CommandExecutor& executor, bool nft_flavour, std::string state_dir);

  Result<bool> apply(const RuleSet& set, Fault fault);
  Result<bool> cleanup();
  Result<std::vector<std::string>> verify(const RuleSet& set);

 private:
  struct FamilyState {
    Family family = Family::kIPv4;
    bool wanted = false;  // the rule set covers this family
    std::string saved;    // the nat table of `save -c`, empty when the table does not exist
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

  // iptables-nft creates the nf_tables `nat` table on first use and no iptables tool removes
  // it. When meshnode created it (noted in state_dir), it goes with meshnode's rules if
  // nothing else has been put in it.
  std::string createdTableNote(Family family) const;
  void noteCreatedTable(const FamilyState& state);
  void removeCreatedTable(Family family, bool known_created);

  CommandExecutor& executor_;
  bool nft_flavour_;
  std::string state_dir_;
};

}  // namespace meshnode::iptables
