#include "iptables/nft_installer.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "common/log.h"
#include "iptables/nft_render.h"

namespace meshnode::iptables {
namespace {

std::string firstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "no message" : line;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.pop_back();
    }
    out.push_back(line);
  }
  while (!out.empty() && out.back().empty())
    out.pop_back();
  return out;
}

std::string normalise(const std::string& text) {
  std::string out;
  for (const auto& l : lines(text))
    out += l + "\n";
  return out;
}

std::string trimmed(const std::string& line) {
  size_t b = line.find_first_not_of(" \t");
  return b == std::string::npos ? "" : line.substr(b);
}

}  // namespace

std::vector<std::string> diffNftTable(const std::string& live, const std::string& expected) {
  if (normalise(live) == normalise(expected)) return {};
  if (live.empty()) return {std::string("table inet ") + kNftTable + " is missing"};
  std::vector<std::string> have = lines(live), want = lines(expected), out;
  for (const auto& l : want) {
    if (std::find(have.begin(), have.end(), l) == have.end()) {
      out.push_back("missing: " + trimmed(l));
    }
  }
  for (const auto& l : have) {
    if (std::find(want.begin(), want.end(), l) == want.end()) {
      out.push_back("unexpected: " + trimmed(l));
    }
  }
  if (out.empty()) out.push_back("rules are in an unexpected order");
  return out;
}

NftInstaller::NftInstaller(CommandExecutor& executor) : executor_(executor) {}

Result<std::string> NftInstaller::live() {
  auto tables = executor_.run({"nft", "list", "tables"}, "");
  if (!tables.ok()) return std::move(tables).takeError();
  if (tables->exit_code != 0) {
    return makeError(ErrorCode::kUnsupported, Side::kSystem,
                     "nft list tables failed: " + firstLine(tables->err) +
                         " (is the kernel's nf_tables available?)");
  }
  std::string wanted = std::string("table inet ") + kNftTable;
  bool exists = false;
  for (const auto& l : lines(tables->out))
    exists = exists || l == wanted;
  if (!exists) return std::string();
  auto table = executor_.run({"nft", "list", "table", "inet", kNftTable}, "");
  if (!table.ok()) return std::move(table).takeError();
  if (table->exit_code != 0) {
    return makeError(ErrorCode::kIo, Side::kSystem,
                     "nft list table inet meshnode failed: " + firstLine(table->err));
  }
  return normalise(table->out);
}

Status NftInstaller::load(const std::string& input) {
  auto result = executor_.run({"nft", "-f", "-"}, input);
  if (!result.ok()) return std::move(result).takeError();
  if (result->exit_code != 0) {
    return makeError(ErrorCode::kRefused, Side::kSystem,
                     "nft rejected the rules: " + firstLine(result->err));
  }
  return {};
}

Result<bool> NftInstaller::apply(const RuleSet& set, Fault fault) {
  auto previous = live();
  if (!previous.ok()) return std::move(previous).takeError();
  std::string expected = renderNftTable(set);
  if (diffNftTable(previous.value(), expected).empty()) {
    LOG_INFO("capture rules already installed; nothing to change");
    return false;
  }
  std::string input = renderNftReplace(expected);
  if (fault == Fault::kBadRule) {
    input += std::string("add rule inet ") + kNftTable + " ISTIO_OUTPUT jump MESHNODE_FAULT\n";
  }
  // One transaction: when nft refuses any of it, nothing has changed.
  if (Status loaded = load(input); !loaded.ok()) return std::move(loaded).takeError();

  std::vector<std::string> diffs;
  auto now = live();
  if (!now.ok()) {
    diffs.push_back(now.error().describe());
  } else {
    diffs = diffNftTable(now.value(), expected);
  }
  if (fault == Fault::kVerify) diffs.push_back("fault injected into the check after apply");
  if (diffs.empty()) return true;

  std::string detail = "live rules differ from the rule set after apply:";
  for (const auto& d : diffs)
    detail += "\n  " + d;
  LOG_ERROR("%s", detail.c_str());
  Status rolled = previous->empty() ? load(renderNftDelete()) : load(renderNftReplace(*previous));
  if (!rolled.ok()) {
    LOG_ERROR("rollback failed: %s; the table before the change was:\n%s",
              rolled.error().describe().c_str(), previous->c_str());
    return std::move(rolled).takeError();
  }
  LOG_NOTICE("table inet %s restored to its state before the change", kNftTable);
  return makeError(ErrorCode::kInternal, Side::kSystem, detail);
}

Result<bool> NftInstaller::cleanup() {
  auto previous = live();
  if (!previous.ok()) return std::move(previous).takeError();
  if (previous->empty()) {
    LOG_INFO("no capture rules installed; nothing to remove");
    return false;
  }
  if (Status removed = load(renderNftDelete()); !removed.ok())
    return std::move(removed).takeError();
  LOG_INFO("table inet %s removed", kNftTable);
  return true;
}

Result<std::vector<std::string>> NftInstaller::verify(const RuleSet& set) {
  auto now = live();
  if (!now.ok()) return std::move(now).takeError();
  return diffNftTable(now.value(), renderNftTable(set));
}

}  // namespace meshnode::iptables
