#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/registry/kube_client.h"
#include "agent/source/kube_objects.h"
#include "agent/source/kube_store.h"
#include "common/result.h"

namespace meshnode::agent::source {

// The API server as list/watch needs it: the seam tests stand a script in for.
class KubeApi {
 public:
  virtual ~KubeApi() = default;
  virtual Result<KubeResponse> get(const std::string& path) = 0;
  // Hands each line of a watch stream to `on_line` until the stream ends, `on_line` returns
  // false or `stop` is set; a status other than 200 is an Error naming it ("HTTP 410").
  virtual Status watch(const std::string& path,
                       const std::function<bool(std::string_view)>& on_line,
                       const std::atomic<bool>& stop) = 0;
};

// KubeApi over the agent's KubeClient (bearer token, CA bundle).
std::unique_ptr<KubeApi> makeKubeApi(KubeClient client);

struct ListWatchTiming {
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  // Asked of the server (timeoutSeconds), so a connection that died quietly is replaced.
  std::chrono::seconds watch_timeout{300};
};

// List then watch of one collection, Kubernetes' informer contract: a list gives the objects
// and a resourceVersion; a watch from it (with bookmarks, which only move the version on)
// applies ADDED/MODIFIED/DELETED; a watch the server ends cleanly resumes from the last version
// seen; 410 Gone (an ERROR event, or the HTTP status) relists at once; any other failure waits
// an exponential backoff, capped, reset by the next success. A collection the server does not
// serve (404: its CRD is not installed) counts as empty and is listed again after the cap.
// Runs on the thread that calls turn(); the store is the only thing it shares.
class KubeListWatch {
 public:
  KubeListWatch(KubeApi& api, KubeCollection collection, KubeObjectStore& store,
                ListWatchTiming timing = {})
      : api_(api), collection_(std::move(collection)), store_(store), timing_(timing) {}

  // One step: a list when no resourceVersion is held, else one watch until it ends. Returns
  // how long to wait before the next step.
  std::chrono::milliseconds turn(const std::atomic<bool>& stop);

  const KubeCollection& collection() const { return collection_; }
  bool listed() const { return listed_.load(); }
  const std::string& resourceVersion() const { return version_; }
  int relists() const { return relists_; }
  // The last failure, for a start-up message; empty after a success.
  std::string lastError() const;

 private:
  enum class WatchEnd { kClosed, kExpired, kFailed };

  std::chrono::milliseconds list();
  std::chrono::milliseconds listOnce();
  std::chrono::milliseconds failed(const std::string& why);
  bool onLine(std::string_view line, WatchEnd& end);
  bool onEvent(std::string_view line, WatchEnd& end);

  KubeApi& api_;
  KubeCollection collection_;
  KubeObjectStore& store_;
  ListWatchTiming timing_;
  std::string version_;
  bool absent_ = false;
  std::chrono::milliseconds delay_{0};
  std::atomic<bool> listed_{false};
  int relists_ = 0;
  std::string event_error_;
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

}  // namespace meshnode::agent::source
