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

namespace meshnode::agent::dns {

// The host's resolvers, reached through one c-ares channel: raw queries go out with
// ares_send and come back as raw responses. Runs on the DNS proxy thread, which polls the
// channel's sockets; nothing here blocks.
class Upstream {
 public:
  using Callback = std::function<void(Result<std::vector<uint8_t>>)>;

  // `servers`: "address", "address:port" or "[v6]:port". Each try waits `try_timeout`, doubling
  // per round as c-ares does; the proxy bounds the whole with its own deadline.
  static Result<std::unique_ptr<Upstream>> create(const std::vector<std::string>& servers,
                                                  std::chrono::milliseconds try_timeout, int tries);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  void send(std::span<const uint8_t> query, Callback callback);

  // The channel's sockets, to add to the thread's poll set.
  std::vector<pollfd> pollFds() const;
  // Hands what poll() saw on the channel's sockets to c-ares, then lets it expire tries.
  void process(std::span<const pollfd> fds);
  // How long poll() may sleep before c-ares needs to look at its timers.
  std::optional<std::chrono::milliseconds> nextTimeout() const;
  size_t inFlight() const { return in_flight_.size(); }

 private:
  struct InFlight {
    Upstream* owner;
    uint64_t token;
    Callback callback;
  };

  Upstream() = default;
  static void onAnswer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void finish(uint64_t token, int status, const unsigned char* abuf, int alen);

  ares_channel channel_ = nullptr;
  uint64_t next_token_ = 1;
  std::map<uint64_t, std::unique_ptr<InFlight>> in_flight_;
  bool destroying_ = false;
};

// c-ares status codes as Errors; the only place they are translated.
Error aresError(int status, const std::string& what);

}  // namespace meshnode::agent::dns
