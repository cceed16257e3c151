#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/source/kube_list_watch.h"
#include "agent/source/kube_mesh.h"
#include "agent/source/kube_store.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::agent::source {

struct KubeSourceOptions {
  std::string api_server;
  std::string token_file;
  std::string ca_file;
  std::string domain_suffix = "cluster.local";
  ListWatchTiming timing;
  // Changes are gathered for this long after the last one (and at most five times it after the
  // first), so a burst of events is one recompile.
  std::chrono::milliseconds debounce{100};
};

// config.source = "kubernetes": the mesh's Istio resources, Services and EndpointSlices listed
// and watched from the API server, one thread per collection (KubeListWatch), into one store.
// The daemon's loop sees the same surface as the directory source's: an fd that becomes
// readable on a change, a debounced due(), and load(). Everything but those threads runs on
// the daemon's loop thread.
class KubeSource {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts the list/watch threads; fails only on settings (a bad api_server).
  static Result<std::unique_ptr<KubeSource>> start(KubeSourceOptions options);
  ~KubeSource();
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  // Waits until every collection has been listed once, or the budget runs out.
  bool waitForSync(std::chrono::milliseconds budget);
  bool synced() const;

  int fd() const { return event_.get(); }
  void onReadable(Clock::time_point now);
  bool due(Clock::time_point now);
  std::optional<Clock::time_point> nextDeadline() const;

  // The mesh from what the watches hold. An error (naming the API server and the collections
  // not yet listed) until every collection has been listed once: a half-listed mesh would
  // drop routes that exist.
  Result<KubeMeshLoad> load();

  // The WorkloadGroup's spec.probe as the API holds it (the Istio loader drops probes);
  // nullopt when the group, or its probe, is absent.
  std::optional<nlohmann::json> groupProbe(const std::string& name_space,
                                           const std::string& name) const;

 private:
  explicit KubeSource(KubeSourceOptions options);
  void runWatch(KubeListWatch& watch);

  KubeSourceOptions options_;
  UniqueFd event_;
  KubeObjectStore store_;
  KubeMeshBuilder builder_;
  std::vector<std::unique_ptr<KubeApi>> apis_;
  std::vector<std::unique_ptr<KubeListWatch>> watches_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::optional<Clock::time_point> first_, last_;
};

}  // namespace meshnode::agent::source
