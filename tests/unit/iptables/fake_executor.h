#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "iptables/executor.h"

namespace meshnode::iptables::testing {

// Answers each program with queued outputs (the last one repeats) and records every call, so a
// test can script what the firewall tools say and check what was fed to them.
class FakeExecutor : public CommandExecutor {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::string input;
  };

  void respond(const std::string& program, CommandOutput output) {
    responses_[program].push_back(std::move(output));
  }
  void respond(const std::string& program, int exit_code, std::string out, std::string err = "") {
    respond(program, CommandOutput{exit_code, std::move(out), std::move(err)});
  }
  void missing(const std::string& program) { missing_.push_back(program); }

  Result<CommandOutput> run(const std::vector<std::string>& argv, std::string_view input) override {
    calls.push_back(Call{argv, std::string(input)});
    for (const auto& m : missing_) {
      if (m == argv[0]) {
        return makeError(ErrorCode::kNotFound, Side::kSystem, argv[0] + " is not installed");
      }
    }
    auto it = responses_.find(argv[0]);
    if (it == responses_.end() || it->second.empty()) return CommandOutput{0, "", ""};
    CommandOutput out = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return out;
  }

  std::vector<Call> callsTo(const std::string& program) const {
    std::vector<Call> out;
    for (const auto& c : calls) {
      if (c.argv[0] == program) out.push_back(c);
    }
    return out;
  }

  std::vector<Call> calls;

 private:
  std::map<std::string, std::deque<CommandOutput>> responses_;
  std::vector<std::string> missing_;
};

}  // namespace meshnode::iptables::testing
