#include "iptables/iptables_installer.h"

#include <sstream>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"

namespace meshnode::iptables {
namespace {

const char* familyName(Family f) {
  return f == Family::kIPv4 ? "IPv4" : "IPv6";
}

std::string firstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "no message" : line;
}

// A rule iptables-restore refuses: its target chain does not exist.
constexpr const char* kInjectedBadRule = "-A ISTIO_OUTPUT -j MESHNODE_FAULT_INJECTED";

// The "*nat" ... "COMMIT" part of a save, or "" when there is no nat table.
std::string natSection(const std::string& save_output) {
  std::istringstream in(save_output);
  std::string line, out;
  bool in_nat = false;
  while (std::getline(in, line)) {
    if (line.rfind("*nat", 0) == 0) in_nat = true;
    if (!in_nat) continue;
    out += line + "\n";
    if (line == "COMMIT") break;
  }
  return out;
}

}  // namespace

std::string renderIptablesPrint(const RuleSet& set) {
  std::string out =
      "# IPv4: iptables-restore --noflush\n" + renderIptablesRestore(set, Family::kIPv4);
  if (set.ipv6) {
    out += "# IPv6: ip6tables-restore --noflush\n" + renderIptablesRestore(set, Family::kIPv6);
  }
  return out;
}

IptablesInstaller::IptablesInstaller(CommandExecutor& executor, bool nft_flavour,
                                     std::string state_dir)
    : executor_(executor), nft_flavour_(nft_flavour), state_dir_(std::move(state_dir)) {}

std::string IptablesInstaller::createdTableNote(Family family) const {
  // Rules belong to a network namespace, so the note names the namespace too.
  std::string netns = "default";
  char link[64] = {};
  ssize_t n = ::readlink("/proc/self/ns/net", link, sizeof(link) - 1);
  if (n > 0) {
    std::string text(link, static_cast<size_t>(n));
    auto open = text.find('['), close = text.find(']');
    if (open != std::string::npos && close > open) netns = text.substr(open + 1, close - open - 1);
  }
  return state_dir_ + "/nat-created-" + (family == Family::kIPv4 ? "ipv4-" : "ipv6-") + netns;
}

void IptablesInstaller::noteCreatedTable(const FamilyState& state) {
  if (!nft_flavour_ || state.saved.find("*nat") != std::string::npos) return;
  ::mkdir(state_dir_.c_str(), 0755);
  if (Status written = writeFileAtomic(createdTableNote(state.family), ""); !written.ok()) {
    LOG_WARN("cannot note the nat table meshnode created: %s", written.error().describe().c_str());
  }
}

void IptablesInstaller::removeCreatedTable(Family family, bool known_created) {
  if (!nft_flavour_) return;
  std::string note = createdTableNote(family);
  if (!known_created && ::access(note.c_str(), F_OK) != 0) return;
  ::unlink(note.c_str());
  auto now = save(family);
  if (!now.ok()) return;
  // Empty means only the built-in chains, accepting, without a rule.
  std::istringstream in(now.value());
  std::string line;
  bool in_nat = false, has_table = false, empty = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '*') {
      in_nat = line == "*nat";
      has_table = has_table || in_nat;
      continue;
    }
    if (!in_nat || line == "COMMIT") continue;
    bool builtin_accepting =
        line.rfind(":PREROUTING ACCEPT", 0) == 0 || line.rfind(":INPUT ACCEPT", 0) == 0 ||
        line.rfind(":OUTPUT ACCEPT", 0) == 0 || line.rfind(":POSTROUTING ACCEPT", 0) == 0;
    empty = empty && builtin_accepting;
  }
  if (!has_table || !empty) return;
  const char* table_family = family == Family::kIPv4 ? "ip" : "ip6";
  auto removed = executor_.run({"nft", "delete", "table", table_family, "nat"}, "");
  if (!removed.ok() || removed->exit_code != 0) {
    LOG_NOTICE("the empty %s nat table meshnode created is left in place: %s", table_family,
               removed.ok() ? firstLine(removed->err).c_str() : removed.error().describe().c_str());
  }
}

std::string IptablesInstaller::tool(Family family, const char* what) const {
  return std::string(family == Family::kIPv4 ? "iptables" : "ip6tables") +
         (nft_flavour_ ? "-nft-" : "-legacy-") + what;
}

Result<std::string> IptablesInstaller::save(Family family) {
  std::string name = tool(family, "save");
  // Without "-t nat": asking for the table by name would create it in nf_tables, and a host
  // that had none must be left with none.
  auto result = executor_.run({name, "-c"}, "");
  if (!result.ok()) return std::move(result).takeError();
  if (result->exit_code != 0) {
    return makeError(ErrorCode::kUnsupported, Side::kSystem,
                     name + " failed: " + firstLine(result->err) + " (is the kernel's " +
                         familyName(family) + " netfilter support available?)");
  }
  return natSection(result->out);
}

Status IptablesInstaller::restore(Family family, const std::string& input, bool noflush) {
  std::string name = tool(family, "restore");
  // --wait: another program holding the xtables lock delays the change instead of failing it.
  std::vector<std::string> argv = {name, "--wait=10", noflush ? "--noflush" : "--counters"};
  auto result = executor_.run(argv, input);
  if (!result.ok()) return std::move(result).takeError();
  if (result->exit_code != 0) {
    return makeError(
        ErrorCode::kRefused, Side::kSystem,
        name + " rejected the " + familyName(family) + " rules: " + firstLine(result->err));
  }
  return {};
}

Result<std::vector<IptablesInstaller::FamilyState>> IptablesInstaller::snapshot(
    const RuleSet* set) {
  std::vector<FamilyState> states;
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    FamilyState s;
    s.family = f;
    s.wanted = set && (f == Family::kIPv4 || set->ipv6);
    auto saved = save(f);
    if (!saved.ok()) {
      // IPv4 is always read: an error here is the one clear error before any change.
      if (s.wanted || f == Family::kIPv4) return std::move(saved).takeError();
      LOG_DEBUG("%s unreadable, skipped: %s", familyName(f), saved.error().describe().c_str());
      continue;
    }
    s.saved = std::move(saved.value());
    s.live = parseIptablesSave(s.saved);
    if (s.wanted) s.expected = expectedNatState(*set, f);
    states.push_back(std::move(s));
  }
  return states;
}

Status IptablesInstaller::rollback(std::vector<FamilyState>& states) {
  Status result;
  for (auto& s : states) {
    if (!s.touched) continue;
    Status restored;
    if (s.saved.find("*nat") != std::string::npos) {
      restored = restore(s.family, s.saved, false);
    } else {
      // There was no nat table to restore; remove what the failed change left.
      auto now = save(s.family);
      if (!now.ok()) {
        restored = std::move(now).takeError();
      } else {
        NatState live = parseIptablesSave(now.value());
        if (!live.empty()) restored = restore(s.family, renderCleanupTransaction(live), true);
        if (restored.ok()) removeCreatedTable(s.family, true);
      }
    }
    if (!restored.ok()) {
      LOG_ERROR("rollback of the %s nat table failed: %s; the rules before the change were:\n%s",
                familyName(s.family), restored.error().describe().c_str(), s.saved.c_str());
      result = restored;
    } else {
      LOG_NOTICE("%s nat table restored to its state before the change", familyName(s.family));
    }
  }
  return result;
}

Result<bool> IptablesInstaller::apply(const RuleSet& set, Fault fault) {
  auto snap = snapshot(&set);
  if (!snap.ok()) return std::move(snap).takeError();
  auto& states = snap.value();

  std::vector<FamilyState*> changing;
  for (auto& s : states) {
    if (s.live != s.expected) changing.push_back(&s);
  }
  if (changing.empty()) {
    LOG_INFO("capture rules already installed; nothing to change");
    return false;
  }
  for (auto* s : changing) {
    std::string input;
    if (s->expected.empty()) {
      input = renderCleanupTransaction(s->live);
    } else {
      bool inject = fault == Fault::kBadRule && s == changing.back();
      input = renderApplyTransaction(s->live, s->expected, inject ? kInjectedBadRule : "");
    }
    // A refused restore commits nothing, so only families that committed need putting back.
    Status applied = restore(s->family, input, true);
    s->touched = applied.ok();
    if (!applied.ok()) {
      LOG_ERROR("%s", applied.error().describe().c_str());
      if (auto rolled = rollback(states); !rolled.ok()) return std::move(rolled).takeError();
      return std::move(applied).takeError();
    }
    LOG_INFO("%s capture rules committed", familyName(s->family));
  }
  // The kernel accepted the rules; check that what is live is what was meant.
  std::vector<std::string> diffs;
  for (auto& s : states) {
    auto now = save(s.family);
    if (!now.ok()) {
      diffs.push_back(std::string(familyName(s.family)) + ": " + now.error().describe());
      continue;
    }
    for (auto& d : diffNatState(parseIptablesSave(now.value()), s.expected)) {
      diffs.push_back(std::string(familyName(s.family)) + ": " + d);
    }
  }
  if (fault == Fault::kVerify) diffs.push_back("fault injected into the check after apply");
  if (!diffs.empty()) {
    std::string detail = "live rules differ from the rule set after apply:";
    for (const auto& d : diffs)
      detail += "\n  " + d;
    LOG_ERROR("%s", detail.c_str());
    if (auto rolled = rollback(states); !rolled.ok()) return std::move(rolled).takeError();
    return makeError(ErrorCode::kInternal, Side::kSystem, detail);
  }
  for (const auto& s : states) {
    if (s.touched && s.wanted) noteCreatedTable(s);
  }
  return true;
}

Result<bool> IptablesInstaller::cleanup() {
  auto snap = snapshot(nullptr);
  if (!snap.ok()) return std::move(snap).takeError();
  auto& states = snap.value();
  bool removed = false;
  for (auto& s : states) {
    if (s.live.empty()) continue;
    Status done = restore(s.family, renderCleanupTransaction(s.live), true);
    s.touched = done.ok();
    if (!done.ok()) {
      if (auto rolled = rollback(states); !rolled.ok()) return std::move(rolled).takeError();
      return std::move(done).takeError();
    }
    removed = true;
    LOG_INFO("%s capture rules removed", familyName(s.family));
  }
  for (const auto& s : states)
    removeCreatedTable(s.family, false);
  if (!removed) LOG_INFO("no capture rules installed; nothing to remove");
  return removed;
}

Result<std::vector<std::string>> IptablesInstaller::verify(const RuleSet& set) {
  auto snap = snapshot(&set);
  if (!snap.ok()) return std::move(snap).takeError();
  std::vector<std::string> diffs;
  for (auto& s : snap.value()) {
    for (auto& d : diffNatState(s.live, s.expected)) {
      diffs.push_back(std::string(familyName(s.family)) + ": " + d);
    }
  }
  if (set.ipv6 && snap->size() < 2) diffs.push_back("IPv6: nat table unreadable");
  return diffs;
}

}  // namespace meshnode::iptables
