#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/dns/name_table.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::agent::dns {

struct DnsProxyOptions {
  std::string listen_address = "127.0.0.1";
  // 0 picks a free port (tests); UDP and TCP share it.
  uint16_t listen_port = 15053;
  std::vector<std::string> upstreams;
  uint32_t ttl_floor = 5;
  uint32_t ttl_ceiling = 300;
  uint32_t mesh_ttl = 30;
  // A client gets SERVFAIL by then if the upstreams have not answered: host DNS never hangs
  // on us, and the stub resolver's own retry (1 s by default on glibc) still finds us fresh.
  std::chrono::milliseconds deadline{800};
  std::chrono::milliseconds upstream_try_timeout{250};
  int upstream_tries = 3;
  size_t max_pending = 1024;
  size_t max_tcp_connections = 64;
};

struct DnsProxyStats {
  uint64_t queries = 0;
  uint64_t mesh_answers = 0;
  uint64_t forwarded = 0;
  uint64_t cache_hits = 0;
  uint64_t servfail = 0;
  uint64_t malformed = 0;
};

// The mesh's DNS server on 127.0.0.1:15053 (UDP and TCP): answers mesh names from the
// NameTable, forwards everything else to the host's resolvers through c-ares, and caches what
// they say. Runs its own thread with a poll loop; setTable() and stats() may be called from
// any thread.
class DnsProxy {
 public:
  static Result<std::unique_ptr<DnsProxy>> start(DnsProxyOptions options,
                                                 std::shared_ptr<const NameTable> table);
  ~DnsProxy();
  DnsProxy(const DnsProxy&) = delete;
  DnsProxy& operator=(const DnsProxy&) = delete;

  void setTable(std::shared_ptr<const NameTable> table);
  uint16_t port() const { return port_; }
  DnsProxyStats stats() const;

 private:
  class Loop;

  DnsProxy() = default;
  std::shared_ptr<const NameTable> table() const;

  struct Counters {
    std::atomic<uint64_t> queries{0}, mesh_answers{0}, forwarded{0}, cache_hits{0}, servfail{0},
        malformed{0};
  };

  uint16_t port_ = 0;
  Counters counters_;
  UniqueFd wake_;
  mutable std::mutex mutex_;
  std::shared_ptr<const NameTable> table_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;

  friend class Loop;
};

}  // namespace meshnode::agent::dns
