#include "iptables/iptables_installer.h"

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

// A rule the kernel refuses: its target chain does not exist.
constexpr const char* kInjectedBadRule = "-A ISTIO_OUTPUT -j MESHNODE_FAULT_INJECTED";

}  // namespace

std::string renderIptablesPrint(const RuleSet& set) {
  std::string out =
      "# IPv4: iptables-restore --noflush\n" + renderIptablesRestore(set, Family::kIPv4);
  if (set.ipv6) {
    out += "# IPv6: ip6tables-restore --noflush\n" + renderIptablesRestore(set, Family::kIPv6);
  }
  return out;
}

IptablesInstaller::IptablesInstaller(CommandExecutor& executor, bool nft_flavour)
    : executor_(executor), nft_flavour_(nft_flavour) {}

std::string IptablesInstaller::tool(Family family, const char* what) const {
  return std::string(family == Family::kIPv4 ? "iptables" : "ip6tables") +
         (nft_flavour_ ? "-nft-" : "-legacy-") + what;
}

Result<std::string> IptablesInstaller::save(Family family) {
  std::string name = tool(family, "save");
  auto result = executor_.run({name, "-c", "-t", "nat"}, "");
  if (!result.ok()) return std::move(result).takeError();
  if (result->exit_code != 0) {
    return makeError(ErrorCode::kUnsupported, Side::kSystem,
                     name + " -t nat failed: " + firstLine(result->err) + " (is the kernel's " +
                         familyName(family) + " nat table available?)");
  }
  return std::move(result->out);
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
