#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/daemon/capture_control.h"
#include "agent/daemon/mesh_state.h"
#include "agent/dns/dns_proxy.h"
#include "agent/health/prober.h"
#include "agent/registry/health_reporter.h"
#include "agent/registry/registry.h"
#include "agent/settings/settings.h"
#include "agent/source/directory_watch.h"
#include "agent/source/host_resolver.h"
#include "agent/source/jwks_fetcher.h"
#include "agent/source/kube_source.h"
#include "agent/source/resolved_hosts.h"
#include "agent/status/metrics.h"
#include "agent/status/status_server.h"
#include "agent/supervisor/supervisor.h"
#include "agent/systemd/notifier.h"
#include "agent/systemd/watchdog.h"
#include "common/unique_fd.h"

namespace meshnode::agent::daemon {

struct DaemonOptions {
  std::string config_path = kDefaultSettingsPath;
  std::string status_address = "127.0.0.1";
  uint16_t status_port = 15020;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds debounce{100};
};

// `meshnode-agent run`: everything the agent does, on one thread. The loop polls a signalfd
// (SIGTERM, SIGINT, SIGHUP, SIGCHLD), the config source's fd (the directory's inotify fd or the
// Kubernetes source's eventfd), the c-ares sockets of the ServiceEntry resolver and the status
// server's sockets; timers (debounce, DNS refresh, proxy restart backoff, registration retry)
// bound its poll timeout. Only the DNS proxy, the
// watchdog pinger, the registry and the Kubernetes source run threads of their own (see their
// headers). Every class held here runs on this loop's thread.
class Daemon {
 public:
  using Clock = std::chrono::steady_clock;

  Daemon(DaemonOptions options, Notifier& notifier);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts everything in order, serves until SIGTERM, stops; returns the exit status.
  int run();

 private:
  int startUp();
  void loop();
  void shutDown();

  // Loads the directory, resolves, compiles, writes and signals. False when nothing could be
  // served (no mesh and no last good snapshot).
  bool refreshMesh(Clock::time_point now);
  // Compiles from resources_ and the resolved hosts; writes and signals the proxy on change.
  void recompile(const char* why);
  void startResolving(Clock::time_point now);
  void resolveFirstAnswers(std::chrono::milliseconds budget);
  // At start, gives the first fetch of each jwksUri up to `budget`, so the first snapshot
  // verifies tokens rather than refusing them until the keys arrive.
  void fetchFirstKeys(std::chrono::milliseconds budget);
  bool waitProxyReady(std::chrono::milliseconds budget);
  void registerEntry(Clock::time_point now);
  void startProbe();
  void reportHealth(Clock::time_point now);
  void reloadSettings(Clock::time_point now);
  void onSignal(int signo, Clock::time_point now);
  void setStatus(const std::string& text);
  void updateMetrics(Clock::time_point now);
  status::StatusResponse handleStatus(const std::string& path);

  DaemonOptions options_;
  Notifier& notifier_;
  AgentSettings settings_;
  UniqueFd signals_;
  std::unique_ptr<status::StatusServer> status_server_;
  std::optional<istio::Resources> resources_;
  CompiledSnapshot snapshot_;
  std::unique_ptr<CaptureControl> capture_;
  std::unique_ptr<dns::DnsProxy> dns_proxy_;
  std::unique_ptr<supervisor::ProxySupervisor> proxy_;
  supervisor::Credentials proxy_user_;
  std::unique_ptr<Registry> registry_;
  WorkloadEntry entry_;
  bool registered_ = false;
  Clock::time_point register_retry_at_{};
  std::chrono::milliseconds register_backoff_{500};
  std::optional<source::DirectoryWatch> watch_;
  // config.source = "kubernetes": in place of watch_ and the directory.
  std::unique_ptr<source::KubeSource> kube_;
  std::unique_ptr<source::HostResolver> resolver_;
  std::unique_ptr<source::ResolvedHostTable> resolved_;
  // Keys of RequestAuthentication jwksUri rules, fetched off the loop thread.
  std::unique_ptr<source::JwksFetcher> jwks_;
  uint64_t jwks_generation_ = 0;
  bool recompile_pending_ = false;
  // The group's probe runs on the Prober's thread; its transitions wait here for the loop.
  std::unique_ptr<HealthReporter> health_;
  std::mutex transitions_mutex_;
  std::deque<HealthTransition> transitions_;
  std::unique_ptr<Prober> prober_;
  std::unique_ptr<WatchdogPinger> watchdog_;
  std::atomic<int64_t> last_turn_ms_{0};
  status::AgentMetrics metrics_;
  bool ready_ = false;
  bool stopping_ = false;
};

}  // namespace meshnode::agent::daemon
