#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "iptables/executor.h"
#include "iptables/rule_set.h"

namespace meshnode::iptables {

// Which tool installs the rules. kAuto follows the host's `iptables` (legacy or nf_tables);
// native nftables is used when forced or when there is no iptables at all.
enum class Backend { kAuto, kIptablesLegacy, kIptablesNft, kNft };

const char* toString(Backend backend);
std::optional<Backend> parseBackend(std::string_view text);

// Resolves kAuto by asking the installed tools; other values are returned as they are.
Result<Backend> resolveBackend(Backend requested, CommandExecutor& executor);

// A failure provoked on purpose, so tests can prove the rollback: kBadRule adds a rule the
// kernel rejects to the last transaction, kVerify makes the check after apply fail.
enum class Fault { kNone, kBadRule, kVerify };
std::optional<Fault> parseFault(std::string_view text);

// Installs, checks and removes the capture with one backend. Each change is one transaction
// per tool invocation, the previous rules are saved first and restored on any failure.
// Every call runs the firewall tools synchronously; the agent calls it from its control
// thread. Two Captures must not change the same host's rules at the same time.
class Capture {
 public:
  static constexpr const char* kDefaultStateDir = "/run/meshnode-iptables";

  // `state_dir` holds what must outlive one call (which nat tables meshnode created).
  Capture(CommandExecutor& executor, Backend backend, std::string state_dir = kDefaultStateDir);

  // What apply installs, in the backend's own input format.
  std::string render(const RuleSet& set) const;

  // Returns whether anything changed: false when the live rules already are `set`.
  Result<bool> apply(const RuleSet& set, Fault fault = Fault::kNone);
  // Returns whether anything was removed.
  Result<bool> cleanup();
  // Differences between the live rules and `set`; empty when they match.
  Result<std::vector<std::string>> verify(const RuleSet& set);

 private:
  CommandExecutor& executor_;
  Backend backend_;
  std::string state_dir_;
};

}  // namespace meshnode::iptables
