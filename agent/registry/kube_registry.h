#pragma once

#include <chrono>
#include <string>

#include "agent/registry/kube_client.h"
#include "agent/registry/registry.h"

namespace meshnode::agent {

struct KubeRegistryOptions {
  std::string api_server;
  std::string token_file;
  std::string ca_file;
  // The namespace whose WorkloadEntries are listed and watched (the workload's own).
  std::string name_space;
  // Writes that meet a newer resourceVersion (409 Conflict) are re-read and retried this often.
  int conflict_retries = 5;
  // The most one write (with its re-reads) may take: writes run on the agent's main loop,
  // which must keep turning (and pinging the watchdog) while the API server is away.
  std::chrono::milliseconds write_budget{std::chrono::seconds(5)};
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
};

// WorkloadEntries through the Kubernetes API (networking.istio.io/v1), following its
// conventions: optimistic concurrency by resourceVersion with conflicts re-read and retried,
// list then watch from the list's resourceVersion with bookmarks, a relist when the server says
// 410 Gone, and exponential backoff on errors. Writes block the calling thread (the agent's
// main loop, through HealthReporter); the watch runs on a thread of its own.
class KubeRegistry : public Registry {
 public:
  static Result<std::unique_ptr<KubeRegistry>> create(KubeRegistryOptions options);

  Status registerEntry(const WorkloadEntry& entry) override;
  Status updateHealth(const std::string& name_space, const std::string& name,
                      const HealthCondition& health) override;
  Status disconnect(const std::string& name_space, const std::string& name,
                    std::chrono::system_clock::time_point now) override;
  Result<std::vector<WorkloadEntry>> list() override;
  Result<std::unique_ptr<RegistryWatch>> watch(WatchCallback callback) override;

 private:
  KubeRegistry(KubeRegistryOptions options, KubeClient client)
      : options_(std::move(options)), client_(std::move(client)) {}

  // GET, change, PUT with the resourceVersion read; again on 409 Conflict.
  Status readModifyWrite(const std::string& name_space, const std::string& name,
                         const std::string& subresource,
                         const std::function<void(WorkloadEntry&)>& change);

  KubeRegistryOptions options_;
  KubeClient client_;
};

// "/apis/networking.istio.io/v1/namespaces/<ns>/workloadentries[/<name>]".
std::string workloadEntriesPath(const std::string& name_space, const std::string& name = "");

}  // namespace meshnode::agent
