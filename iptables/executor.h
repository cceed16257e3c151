#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshnode::iptables {

struct CommandOutput {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// Runs the firewall tools. The seam where tests stand in for iptables and nft.
class CommandExecutor {
 public:
  virtual ~CommandExecutor() = default;
  // A command that ran, whatever its exit code, is a value; an Error means it could not run
  // (kNotFound when the program is not installed).
  virtual Result<CommandOutput> run(const std::vector<std::string>& argv,
                                    std::string_view input) = 0;
};

// Spawns the program found in PATH, feeds `input` on stdin and collects stdout and stderr.
// Blocks until the program exits: call it from a control thread, never from a proxy worker.
class ProcessExecutor : public CommandExecutor {
 public:
  Result<CommandOutput> run(const std::vector<std::string>& argv, std::string_view input) override;
};

}  // namespace meshnode::iptables
