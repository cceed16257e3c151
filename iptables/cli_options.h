#pragma once

#include <string>

#include "common/result.h"
#include "iptables/capture.h"
#include "iptables/capture_options.h"

namespace meshnode::iptables {

enum class Command { kApply, kCleanup, kPrint, kVerify, kHelp };

struct CommandLine {
  Command command = Command::kHelp;
  Backend backend = Backend::kAuto;
  std::string options_file;
  CaptureOptions capture;  // from --name=value flags; they win over the options file
  std::string log_level;
  std::string state_dir = Capture::kDefaultStateDir;
};

// meshnode-iptables COMMAND [--backend=B] [--options-file=F] [--<capture option>=V ...]
Result<CommandLine> parseCommandLine(int argc, const char* const* argv);

std::string usageText();

// The options file (when given) overlaid with the flags, parsed into a CaptureConfig.
Result<CaptureConfig> captureConfigFrom(const CommandLine& command_line);

}  // namespace meshnode::iptables
