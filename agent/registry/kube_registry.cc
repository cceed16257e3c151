#include "agent/registry/kube_registry.h"

#include <atomic>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace meshnode::agent {
namespace {

using Json = nlohmann::json;

Error statusError(const std::string& what, const KubeResponse& r) {
  std::string message;
  Json body = Json::parse(r.body, nullptr, false);
  if (body.is_object()) message = body.value("message", "");
  bool retryable = r.status == 409 || r.status == 429 || r.status >= 500;
  ErrorCode code = r.status == 404   ? ErrorCode::kNotFound
                   : r.status == 409 ? ErrorCode::kRefused
                                     : ErrorCode::kProtocol;
  return makeError(code, Side::kUpstream,
                   "kubernetes API: " + what + ": HTTP " + std::to_string(r.status) +
                       (message.empty() ? "" : " (" + message + ")"),
                   retryable);
}

Result<Json> parseBody(const KubeResponse& r, const std::string& what) {
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return makeError(ErrorCode::kProtocol, Side::kUpstream,
                     "kubernetes API: " + what + ": response is not JSON", true);
  }
  return j;
}

std::string key(const WorkloadEntry& e) {
  return e.name_space + "/" + e.name;
}

// List then watch, on a thread of its own, reporting differences to the callback.
class KubeWatch : public RegistryWatch {
 public:
  KubeWatch(KubeClient client, KubeRegistryOptions options, Registry::WatchCallback callback)
      : client_(std::move(client)), options_(std::move(options)), callback_(std::move(callback)) {
    thread_ = std::thread([this] { run(); });
  }
  ~KubeWatch() override {
    stop_ = true;
    thread_.join();
  }

 private:
  void run() {
    auto delay = std::chrono::milliseconds(0);
    std::string version;
    while (!stop_) {
      if (delay.count() > 0) sleepFor(delay);
      if (stop_) return;
      if (version.empty()) {
        auto listed = relist();
        if (!listed.ok()) {
          LOG_WARN("registry: %s", listed.error().describe().c_str());
          delay = nextDelay(delay);
          continue;
        }
        version = *listed;
      }
      bool expired = false;
      std::string path = workloadEntriesPath(options_.name_space) +
                         "?watch=1&allowWatchBookmarks=true&resourceVersion=" + version;
      Status s = client_.stream(
          path, [&](std::string_view line) { return onEvent(line, version, expired); }, stop_);
      if (expired || (!s && s.error().detail.find("HTTP 410") != std::string::npos)) {
        LOG_NOTICE("registry: watch from resourceVersion %s expired (410 Gone); relisting",
                   version.c_str());
        version.clear();
        delay = std::chrono::milliseconds(0);
        continue;
      }
      if (!s) {
        LOG_WARN("registry: %s", s.error().describe().c_str());
        delay = nextDelay(delay);
        continue;
      }
      // The server closed a healthy stream (its timeout): watch on from where we are.
      delay = std::chrono::milliseconds(0);
    }
  }

  std::chrono::milliseconds nextDelay(std::chrono::milliseconds d) const {
    return d.count() == 0 ? options_.backoff_initial : std::min(d * 2, options_.backoff_max);
  }

  void sleepFor(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Lists every entry, reports what changed since the last view, returns the list's version.
  Result<std::string> relist() {
    auto r = client_.request("GET", workloadEntriesPath(options_.name_space));
    if (!r.ok()) return std::move(r).takeError();
    if (r->status != 200) return statusError("list workloadentries", *r);
    auto body = parseBody(*r, "list workloadentries");
    if (!body.ok()) return std::move(body).takeError();
    std::map<std::string, WorkloadEntry> now;
    for (const Json& item : body->value("items", Json::array())) {
      Json object = item;
      object["apiVersion"] = "networking.istio.io/v1";  // list items may omit it
      object["kind"] = "WorkloadEntry";
      auto e = entryFromJson(object, "workloadentries list");
      if (e.ok()) now[key(*e)] = std::move(e).value();
    }
    announceChanges(known_, now, callback_);
    known_ = std::move(now);
    return (*body)["metadata"].value("resourceVersion", "");
  }

  bool onEvent(std::string_view line, std::string& version, bool& expired) {
    Json ev = Json::parse(line, nullptr, false);
    if (!ev.is_object() || !ev.contains("object")) {
      LOG_WARN("registry: unreadable watch event");
      return true;
    }
    std::string type = ev.value("type", "");
    const Json& object = ev["object"];
    if (type == "ERROR") {
      if (object.value("code", 0) == 410) {
        expired = true;
      } else {
        LOG_WARN("registry: watch error: %s", object.value("message", "").c_str());
      }
      return false;
    }
    if (object.contains("metadata")) {
      std::string v = object["metadata"].value("resourceVersion", "");
      if (!v.empty()) version = v;
    }
    if (type == "BOOKMARK") return true;
    auto e = entryFromJson(object, "watch event");
    if (!e.ok()) {
      LOG_WARN("registry: %s", e.error().detail.c_str());
      return true;
    }
    std::string k = key(*e);
    if (type == "DELETED") {
      known_.erase(k);
      callback_(RegistryEvent{RegistryEvent::Kind::kRemoved, *e});
    } else {
      bool existed = known_.count(k) != 0;
      known_[k] = *e;
      callback_(
          RegistryEvent{existed ? RegistryEvent::Kind::kUpdated : RegistryEvent::Kind::kAdded, *e});
    }
    return true;
  }

  KubeClient client_;
  KubeRegistryOptions options_;
  Registry::WatchCallback callback_;
  std::map<std::string, WorkloadEntry> known_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

std::string workloadEntriesPath(const std::string& name_space, const std::string& name) {
  std::string path = "/apis/networking.istio.io/v1/namespaces/" + name_space + "/workloadentries";
  return name.empty() ? path : path + "/" + name;
}

Result<std::unique_ptr<KubeRegistry>> KubeRegistry::create(KubeRegistryOptions options) {
  auto client = KubeClient::create(options.api_server, options.token_file, options.ca_file);
  if (!client.ok()) return std::move(client).takeError();
  return std::unique_ptr<KubeRegistry>(
      new KubeRegistry(std::move(options), std::move(client).value()));
}

Status KubeRegistry::registerEntry(const WorkloadEntry& entry) {
  WorkloadEntry mine = entry;
  mine.annotations.erase(kDisconnectedAt);
  std::string what = "create WorkloadEntry " + key(mine);
  auto r = client_.request("POST", workloadEntriesPath(mine.name_space), toJson(mine).dump(),
                           options_.write_budget);
  if (!r.ok()) return std::move(r).takeError();
  if (r->status == 201 || r->status == 200) return {};
  if (r->status != 409) return statusError(what, *r);
  // Left from an earlier run of this host: take it over, as Istio does on reconnect.
  return readModifyWrite(mine.name_space, mine.name, "", [&](WorkloadEntry& e) {
    std::optional<HealthCondition> health = e.health;
    e = mine;
    e.health = health;
  });
}

Status KubeRegistry::updateHealth(const std::string& name_space, const std::string& name,
                                  const HealthCondition& health) {
  return readModifyWrite(name_space, name, "/status", [&](WorkloadEntry& e) { e.health = health; });
}

Status KubeRegistry::disconnect(const std::string& name_space, const std::string& name,
                                std::chrono::system_clock::time_point now) {
  return readModifyWrite(name_space, name, "",
                         [&](WorkloadEntry& e) { e.annotations[kDisconnectedAt] = rfc3339(now); });
}

Status KubeRegistry::readModifyWrite(const std::string& name_space, const std::string& name,
                                     const std::string& subresource,
                                     const std::function<void(WorkloadEntry&)>& change) {
  std::string path = workloadEntriesPath(name_space, name);
  std::string what = "update WorkloadEntry " + name_space + "/" + name + subresource;
  auto deadline = std::chrono::steady_clock::now() + options_.write_budget;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  for (int attempt = 0;; ++attempt) {
    auto got = client_.request("GET", path, "", left());
    if (!got.ok()) return std::move(got).takeError();
    if (got->status != 200)
      return statusError("get WorkloadEntry " + name_space + "/" + name, *got);
    auto current = parseBody(*got, what);
    if (!current.ok()) return std::move(current).takeError();
    auto entry = entryFromJson(*current, path);
    if (!entry.ok()) return std::move(entry).takeError();
    change(*entry);
    Json next = toJson(*entry);
    // Optimistic concurrency: the write applies only to the version just read.
    next["metadata"]["resourceVersion"] = (*current)["metadata"].value("resourceVersion", "");
    if (current->at("metadata").contains("uid"))
      next["metadata"]["uid"] = (*current)["metadata"]["uid"];
    auto put = client_.request("PUT", path + subresource, next.dump(), left());
    if (!put.ok()) return std::move(put).takeError();
    if (put->status == 200 || put->status == 201) return {};
    if (put->status != 409 || attempt >= options_.conflict_retries ||
        std::chrono::steady_clock::now() >= deadline) {
      return statusError(what, *put);
    }
    LOG_INFO("registry: %s: conflict with a newer version; re-reading", what.c_str());
  }
}

Result<std::vector<WorkloadEntry>> KubeRegistry::list() {
  auto r = client_.request("GET", workloadEntriesPath(options_.name_space));
  if (!r.ok()) return std::move(r).takeError();
  if (r->status != 200) return statusError("list workloadentries", *r);
  auto body = parseBody(*r, "list workloadentries");
  if (!body.ok()) return std::move(body).takeError();
  std::vector<WorkloadEntry> out;
  for (const Json& item : body->value("items", Json::array())) {
    Json object = item;
    object["apiVersion"] = "networking.istio.io/v1";
    object["kind"] = "WorkloadEntry";
    auto e = entryFromJson(object, "workloadentries list");
    if (e.ok()) out.push_back(std::move(e).value());
  }
  return out;
}

Result<std::unique_ptr<RegistryWatch>> KubeRegistry::watch(WatchCallback callback) {
  return std::unique_ptr<RegistryWatch>(
      std::make_unique<KubeWatch>(client_, options_, std::move(callback)));
}

}  // namespace meshnode::agent
