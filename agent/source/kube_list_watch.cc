#include "agent/source/kube_list_watch.h"

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace meshnode::agent::source {
namespace {

using Json = nlohmann::json;

class ClientApi : public KubeApi {
 public:
  explicit ClientApi(KubeClient client) : client_(std::move(client)) {}

  Result<KubeResponse> get(const std::string& path) override {
    // Bounded, since a list does not watch the stop flag: shutting down waits for it.
    return client_.request("GET", path, "", std::chrono::seconds(15));
  }
  Status watch(const std::string& path, const std::function<bool(std::string_view)>& on_line,
               const std::atomic<bool>& stop) override {
    return client_.stream(path, on_line, stop);
  }

 private:
  KubeClient client_;
};

std::string statusMessage(const KubeResponse& r) {
  Json body = Json::parse(r.body, nullptr, false);
  std::string message;
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    message = body["message"].get<std::string>();
  return "HTTP " + std::to_string(r.status) + (message.empty() ? "" : " (" + message + ")");
}

}  // namespace

std::unique_ptr<KubeApi> makeKubeApi(KubeClient client) {
  return std::make_unique<ClientApi>(std::move(client));
}

std::string KubeListWatch::lastError() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

std::chrono::milliseconds KubeListWatch::failed(const std::string& why) {
  bool repeated;
  {
    std::lock_guard lock(error_mutex_);
    repeated = last_error_ == why;
    last_error_ = why;
  }
  // Eleven collections retrying through an outage would bury the log: a failure is a warning
  // when it is new, and a debug line while it repeats.
  if (repeated)
    LOG_DEBUG("config source: %s: %s (again)", collection_.path.c_str(), why.c_str());
  else
    LOG_WARN("config source: %s: %s", collection_.path.c_str(), why.c_str());
  delay_ =
      delay_.count() == 0 ? timing_.backoff_initial : std::min(delay_ * 2, timing_.backoff_max);
  return delay_;
}

std::chrono::milliseconds KubeListWatch::list() {
  try {
    return listOnce();
  } catch (const Json::exception& e) {
    return failed(std::string("list: unreadable response: ") + e.what());
  }
}

std::chrono::milliseconds KubeListWatch::listOnce() {
  auto r = api_.get(collection_.path);
  if (!r) return failed(r.error().detail);
  if (r->status == 404) {
    // The kind's CRD is not installed: nothing of it exists, which is not an outage.
    if (!absent_)
      LOG_WARN("config source: %s: not served (404); no %s objects until it is",
               collection_.path.c_str(), collection_.kind.c_str());
    absent_ = true;
    store_.replace(collection_.kind, {});
    listed_ = true;
    delay_ = std::chrono::milliseconds(0);
    return timing_.backoff_max;
  }
  if (r->status != 200) return failed("list: " + statusMessage(*r));
  Json body = Json::parse(r->body, nullptr, false);
  if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
    return failed("list: the response is not a list");
  KubeObjectStore::Objects objects;
  for (const Json& item : body["items"]) {
    std::string key = objectKey(item);
    if (key.empty()) continue;
    objects[key] = storedForm(item, collection_);
  }
  std::string version;
  if (body.contains("metadata") && body["metadata"].is_object())
    version = body["metadata"].value("resourceVersion", "");
  if (version.empty()) return failed("list: no metadata.resourceVersion");
  if (absent_) LOG_NOTICE("config source: %s is served now", collection_.path.c_str());
  absent_ = false;
  LOG_INFO("config source: listed %zu %s at resourceVersion %s", objects.size(),
           collection_.kind.c_str(), version.c_str());
  store_.replace(collection_.kind, std::move(objects));
  version_ = version;
  listed_ = true;
  delay_ = std::chrono::milliseconds(0);
  {
    std::lock_guard lock(error_mutex_);
    last_error_.clear();
  }
  return delay_;
}

bool KubeListWatch::onLine(std::string_view line, WatchEnd& end) {
  // nlohmann-json reports a field of an unexpected type by throwing; it stops here.
  try {
    return onEvent(line, end);
  } catch (const Json::exception& e) {
    LOG_WARN("config source: %s: unreadable watch event: %s", collection_.path.c_str(), e.what());
    return true;
  }
}

bool KubeListWatch::onEvent(std::string_view line, WatchEnd& end) {
  Json event = Json::parse(line, nullptr, false);
  if (!event.is_object() || !event.contains("object") || !event["object"].is_object()) {
    LOG_WARN("config source: %s: unreadable watch event", collection_.path.c_str());
    return true;
  }
  std::string type = event.value("type", "");
  const Json& object = event["object"];
  if (type == "ERROR") {
    std::string message = object.value("message", "");
    if (object.value("code", 0) == 410) {
      end = WatchEnd::kExpired;
    } else {
      end = WatchEnd::kFailed;
      event_error_ = "watch error: " + message;
    }
    return false;
  }
  // A stream that delivers is a healthy one: the next failure starts the backoff afresh.
  delay_ = std::chrono::milliseconds(0);
  {
    std::lock_guard lock(error_mutex_);
    last_error_.clear();
  }
  if (object.contains("metadata") && object["metadata"].is_object()) {
    std::string v = object["metadata"].value("resourceVersion", "");
    if (!v.empty()) version_ = v;
  }
  if (type == "BOOKMARK") return true;
  std::string key = objectKey(object);
  if (key.empty()) {
    LOG_WARN("config source: %s: %s event for an object without namespace and name",
             collection_.path.c_str(), type.c_str());
    return true;
  }
  if (type == "DELETED")
    store_.remove(collection_.kind, key);
  else if (type == "ADDED" || type == "MODIFIED")
    store_.upsert(collection_.kind, key, storedForm(object, collection_));
  return true;
}

std::chrono::milliseconds KubeListWatch::turn(const std::atomic<bool>& stop) {
  if (version_.empty() || absent_) return list();
  WatchEnd end = WatchEnd::kClosed;
  std::string path = collection_.path +
                     "?watch=1&allowWatchBookmarks=true&resourceVersion=" + version_ +
                     "&timeoutSeconds=" + std::to_string(timing_.watch_timeout.count());
  std::string from = version_;
  size_t lines = 0;
  auto began = std::chrono::steady_clock::now();
  Status s = api_.watch(
      path,
      [&](std::string_view line) {
        ++lines;
        return onLine(line, end);
      },
      stop);
  if (end == WatchEnd::kExpired || (!s && s.error().detail.find("HTTP 410") != std::string::npos)) {
    LOG_NOTICE("config source: %s: watch from resourceVersion %s expired (410 Gone); relisting",
               collection_.path.c_str(), from.c_str());
    version_.clear();
    ++relists_;
    return list();
  }
  if (end == WatchEnd::kFailed) return failed(event_error_);
  if (!s) {
    // The kind stopped being served (its CRD removed): the next list finds out and empties it.
    if (s.error().detail.find("HTTP 404") != std::string::npos) version_.clear();
    return failed(s.error().detail);
  }
  // A server (or something in between) that ends every watch at once must not be spun on.
  if (lines == 0 && !stop && std::chrono::steady_clock::now() - began < std::chrono::seconds(1))
    return failed("the watch ended at once, with no event");
  // The server ended a healthy stream (timeoutSeconds): watch on from the last version.
  return std::chrono::milliseconds(0);
}

}  // namespace meshnode::agent::source
