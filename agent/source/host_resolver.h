#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <ares.h>
#include <poll.h>

#include "common/result.h"

namespace meshnode::agent::source {

struct Answer {
  std::vector<std::string> addresses;  // numeric, sorted
  std::chrono::seconds ttl{0};         // the smallest TTL of the records
};

// Looks up A and AAAA records of ServiceEntry hosts through one c-ares channel (never
// /etc/hosts, never the search list: a ServiceEntry host is a full name). Runs on the daemon's
// loop thread, which polls pollFds(); nothing here blocks.
class HostResolver {
 public:
  using Callback = std::function<void(Result<Answer>)>;

  // `servers` as in agent.toml dns.upstreams: "address", "address:port", "[v6]:port".
  static Result<std::unique_ptr<HostResolver>> create(const std::vector<std::string>& servers,
                                                      std::chrono::milliseconds try_timeout,
                                                      int tries);
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  void resolve(const std::string& host, Callback callback);

  std::vector<pollfd> pollFds() const;
  void process(std::span<const pollfd> fds);
  std::optional<std::chrono::milliseconds> nextTimeout() const;

 private:
  struct InFlight {
    HostResolver* owner;
    uint64_t token;
    std::string host;
    Callback callback;
  };

  HostResolver() = default;
  static void onAnswer(void* arg, int status, int timeouts, ares_addrinfo* result);

  ares_channel channel_ = nullptr;
  uint64_t next_token_ = 1;
  std::map<uint64_t, std::unique_ptr<InFlight>> in_flight_;
  bool destroying_ = false;
};

}  // namespace meshnode::agent::source
