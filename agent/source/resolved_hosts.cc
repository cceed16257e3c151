#include "agent/source/resolved_hosts.h"

#include <algorithm>
#include <set>

#include "common/log.h"

namespace meshnode::agent::source {

bool ResolvedHostTable::setHosts(const std::vector<std::string>& hosts, Clock::time_point now) {
  std::set<std::string> wanted(hosts.begin(), hosts.end());
  bool dropped = false;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    dropped |= !it->second.addresses.empty();
    it = hosts_.erase(it);
  }
  for (const auto& h : wanted)
    if (!hosts_.count(h)) hosts_[h].next = now;
  return dropped;
}

std::vector<std::string> ResolvedHostTable::takeDue(Clock::time_point now) {
  std::vector<std::string> due;
  for (auto& [host, e] : hosts_) {
    if (e.asking || now < e.next) continue;
    e.asking = true;
    due.push_back(host);
  }
  return due;
}

bool ResolvedHostTable::onAnswer(const std::string& host, const Result<Answer>& answer,
                                 Clock::time_point now) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return false;  // dropped while asked
  Entry& e = it->second;
  e.asking = false;
  e.answered = true;
  if (!answer) {
    ++failures_;
    e.next = now + std::max(floor_, std::chrono::seconds(1));
    LOG_WARN("%s; keeping %zu last good address(es), retrying in %llds",
             answer.error().detail.c_str(), e.addresses.size(),
             static_cast<long long>(std::max(floor_, std::chrono::seconds(1)).count()));
    return false;
  }
  auto ttl = std::clamp(answer->ttl, floor_, ceiling_);
  // A zero floor with a zero TTL would ask in a busy loop.
  e.next = now + std::max(ttl, std::chrono::seconds(1));
  if (answer->addresses == e.addresses) return false;
  LOG_NOTICE("%s now resolves to %zu address(es), TTL %llds", host.c_str(),
             answer->addresses.size(), static_cast<long long>(ttl.count()));
  e.addresses = answer->addresses;
  ++changes_;
  return true;
}

void ResolvedHostTable::forgetInFlight(Clock::time_point now) {
  for (auto& [host, e] : hosts_)
    if (e.asking) {
      e.asking = false;
      e.next = now;
    }
}

std::optional<ResolvedHostTable::Clock::time_point> ResolvedHostTable::nextDue() const {
  std::optional<Clock::time_point> next;
  for (const auto& [host, e] : hosts_)
    if (!e.asking && (!next || e.next < *next)) next = e.next;
  return next;
}

bool ResolvedHostTable::waitingForFirstAnswer() const {
  return std::any_of(hosts_.begin(), hosts_.end(),
                     [](const auto& kv) { return !kv.second.answered; });
}

compiler::ResolvedHosts ResolvedHostTable::resolved() const {
  compiler::ResolvedHosts out;
  for (const auto& [host, e] : hosts_)
    if (!e.addresses.empty()) out[host] = e.addresses;
  return out;
}

}  // namespace meshnode::agent::source
