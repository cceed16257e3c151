#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/compiler/compiler.h"
#include "agent/source/host_resolver.h"

namespace meshnode::agent::source {

// The addresses of the hosts the compiler needs resolved, and when each is next asked again:
// at its TTL kept within [floor, ceiling]. A failed lookup keeps the last good addresses and is
// retried after `floor`, so an unreachable DNS server never empties a cluster. Pure
// bookkeeping (the HostResolver does the asking); runs on the daemon's loop thread.
class ResolvedHostTable {
 public:
  using Clock = std::chrono::steady_clock;

  ResolvedHostTable(std::chrono::seconds floor, std::chrono::seconds ceiling)
      : floor_(floor), ceiling_(ceiling) {}

  // The hosts to keep resolved; new ones are due now, dropped ones forgotten. True when a host
  // with addresses was dropped (the compiled snapshot changes).
  bool setHosts(const std::vector<std::string>& hosts, Clock::time_point now);
  // Hosts whose refresh is due and not already asked; they are marked as asked.
  std::vector<std::string> takeDue(Clock::time_point now);
  // Records an answer; true when the host's addresses changed.
  bool onAnswer(const std::string& host, const Result<Answer>& answer, Clock::time_point now);
  // The resolver was replaced with its questions unanswered: ask them again now.
  void forgetInFlight(Clock::time_point now);
  std::optional<Clock::time_point> nextDue() const;
  // True while some host was never answered and is still being asked.
  bool waitingForFirstAnswer() const;

  compiler::ResolvedHosts resolved() const;
  uint64_t failures() const { return failures_; }
  uint64_t changes() const { return changes_; }

 private:
  struct Entry {
    std::vector<std::string> addresses;  // last good
    Clock::time_point next{};
    bool asking = false;
    bool answered = false;  // at least once, success or failure
  };

  std::chrono::seconds floor_, ceiling_;
  std::map<std::string, Entry> hosts_;
  uint64_t failures_ = 0;
  uint64_t changes_ = 0;
};

}  // namespace meshnode::agent::source
