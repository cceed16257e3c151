#include "iptables/capture.h"

#include <utility>

#include "iptables/iptables_installer.h"
#include "iptables/nft_installer.h"
#include "iptables/nft_render.h"

namespace meshnode::iptables {

const char* toString(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kIptablesLegacy:
      return "legacy";
    case Backend::kIptablesNft:
      return "iptables-nft";
    case Backend::kNft:
      return "nft";
  }
  return "?";
}

std::optional<Backend> parseBackend(std::string_view text) {
  if (text == "auto") return Backend::kAuto;
  if (text == "legacy" || text == "iptables-legacy") return Backend::kIptablesLegacy;
  if (text == "iptables-nft") return Backend::kIptablesNft;
  if (text == "nft" || text == "nftables") return Backend::kNft;
  return std::nullopt;
}

std::optional<Fault> parseFault(std::string_view text) {
  if (text.empty() || text == "none") return Fault::kNone;
  if (text == "bad-rule") return Fault::kBadRule;
  if (text == "verify") return Fault::kVerify;
  return std::nullopt;
}

Result<Backend> resolveBackend(Backend requested, CommandExecutor& executor) {
  if (requested != Backend::kAuto) return requested;
  auto version = executor.run({"iptables", "--version"}, "");
  if (version.ok() && version->exit_code == 0) {
    if (version->out.find("nf_tables") != std::string::npos) return Backend::kIptablesNft;
    return Backend::kIptablesLegacy;
  }
  auto nft = executor.run({"nft", "--version"}, "");
  if (nft.ok() && nft->exit_code == 0) return Backend::kNft;
  return makeError(ErrorCode::kNotFound, Side::kSystem,
                   "neither iptables nor nft can be run; install the iptables or the nftables "
                   "package");
}

Capture::Capture(CommandExecutor& executor, Backend backend, std::string state_dir)
    : executor_(executor), backend_(backend), state_dir_(std::move(state_dir)) {}

std::string Capture::render(const RuleSet& set) const {
  if (backend_ == Backend::kNft) return renderNftTable(set);
  return renderIptablesPrint(set);
}

Result<bool> Capture::apply(const RuleSet& set, Fault fault) {
  if (backend_ == Backend::kNft) return NftInstaller(executor_).apply(set, fault);
  return IptablesInstaller(executor_, backend_ == Backend::kIptablesNft, state_dir_)
      .apply(set, fault);
}

Result<bool> Capture::cleanup() {
  if (backend_ == Backend::kNft) return NftInstaller(executor_).cleanup();
  return IptablesInstaller(executor_, backend_ == Backend::kIptablesNft, state_dir_).cleanup();
}

Result<std::vector<std::string>> Capture::verify(const RuleSet& set) {
  if (backend_ == Backend::kNft) return NftInstaller(executor_).verify(set);
  return IptablesInstaller(executor_, backend_ == Backend::kIptablesNft, state_dir_).verify(set);
}

}  // namespace meshnode::iptables
