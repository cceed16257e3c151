#include "iptables/cli_options.h"

#include <string_view>
#include <utility>

#include "common/file.h"
#include "iptables/options_file.h"

namespace meshnode::iptables {
namespace {

Error usageError(const std::string& detail) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig, detail);
}

}  // namespace

std::string usageText() {
  std::string out =
      "usage: meshnode-iptables apply|cleanup|print|verify [options]\n"
      "\n"
      "  apply    install the capture rules (a no-op when they are already live)\n"
      "  cleanup  remove meshnode's rules and nothing else (a no-op when none are live)\n"
      "  print    show the rules apply installs; nothing is changed\n"
      "  verify   exit 1 and list the differences when the live rules are not the expected\n"
      "\n"
      "  --backend=auto|legacy|iptables-nft|nft   the tool that installs the rules (auto)\n"
      "  --options-file=PATH  'name = value' lines with the options below\n"
      "  --log-level=error|warning|notice|info|debug\n"
      "  --state-dir=PATH     notes kept between calls (/run/meshnode-iptables)\n"
      "\ncapture options (docs/capture.md):\n";
  for (const auto& info : captureOptionInfo()) {
    std::string flag = "--" + std::string(info.name) + "=" + std::string(info.value_hint);
    for (auto& c : flag)
      c = c == '_' ? '-' : c;
    out += "  " + flag + "\n      " + std::string(info.help) + "\n";
  }
  return out;
}

Result<CommandLine> parseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  bool have_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      cl.command = Command::kHelp;
      return cl;
    }
    if (arg.rfind("--", 0) != 0) {
      if (have_command) return usageError("unexpected argument '" + std::string(arg) + "'");
      have_command = true;
      if (arg == "apply") {
        cl.command = Command::kApply;
      } else if (arg == "cleanup") {
        cl.command = Command::kCleanup;
      } else if (arg == "print") {
        cl.command = Command::kPrint;
      } else if (arg == "verify") {
        cl.command = Command::kVerify;
      } else {
        return usageError("unknown command '" + std::string(arg) +
                          "' (apply, cleanup, print, verify)");
      }
      continue;
    }
    std::string name(arg.substr(2));
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return usageError("--" + name + " needs a value");
    }
    if (name == "backend") {
      auto backend = parseBackend(value);
      if (!backend) {
        return usageError("--backend: '" + value +
                          "' is not one of auto, legacy, iptables-nft, nft");
      }
      cl.backend = *backend;
    } else if (name == "options-file") {
      cl.options_file = value;
    } else if (name == "log-level") {
      cl.log_level = value;
    } else if (name == "state-dir") {
      cl.state_dir = value;
    } else if (!canonicalOptionName(name).empty()) {
      std::string key = canonicalOptionName(name);
      if (cl.capture.count(key)) return usageError("--" + name + " is given twice");
      cl.capture[key] = OptionValue{value, "--" + name};
    } else {
      return usageError("unknown option --" + name + " (see --help)");
    }
  }
  if (!have_command) return usageError("a command is needed: apply, cleanup, print or verify");
  return cl;
}

Result<CaptureConfig> captureConfigFrom(const CommandLine& command_line) {
  CaptureOptions options;
  if (!command_line.options_file.empty()) {
    auto text = readFile(command_line.options_file);
    if (!text.ok()) return std::move(text).takeError();
    auto parsed = parseOptionsText(text.value(), command_line.options_file);
    if (!parsed.ok()) return std::move(parsed).takeError();
    for (auto& [key, value] : parsed.value()) {
      std::string canonical = canonicalOptionName(key);
      if (!canonical.empty() && command_line.capture.count(canonical)) continue;
      options[key] = value;
    }
  }
  for (const auto& [key, value] : command_line.capture)
    options[key] = value;
  return parseCaptureOptions(options);
}

}  // namespace meshnode::iptables
