#include "agent/registry/workload_entry.h"

#include <ctime>

#include <nlohmann/json.hpp>

namespace meshnode::agent {
namespace {

using Json = nlohmann::json;

Error invalid(const std::string& source, const std::string& what) {
  return makeError(ErrorCode::kParse, Side::kConfig, source + ": " + what);
}

template <typename Map>
void putMap(Json& parent, const char* key, const Map& map) {
  if (!map.empty()) parent[key] = map;
}

}  // namespace

std::string entryName(const std::string& group, const std::string& address) {
  std::string name = group + "-" + address;
  for (size_t i = group.size(); i < name.size(); ++i) {
    if (name[i] == '.' || name[i] == ':') name[i] = '-';
  }
  return name;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%09lldZ", static_cast<long long>(nanos));
  return buf;
}

WorkloadEntry makeEntry(const WorkloadTemplate& tmpl, const std::string& address,
                        std::chrono::system_clock::time_point now) {
  WorkloadEntry e;
  e.name = entryName(tmpl.group, address);
  e.name_space = tmpl.name_space;
  e.group = tmpl.group;
  e.group_uid = tmpl.group_uid;
  e.labels = tmpl.labels;
  e.annotations = tmpl.annotations;
  e.annotations[kAutoRegistrationGroup] = tmpl.group;
  e.annotations[kConnectedAt] = rfc3339(now);
  e.address = address;
  e.service_account = tmpl.service_account;
  e.network = tmpl.network;
  e.locality = tmpl.locality;
  e.weight = tmpl.weight;
  e.ports = tmpl.ports;
  return e;
}

Json toJson(const WorkloadEntry& e) {
  Json meta = {{"name", e.name}, {"namespace", e.name_space}};
  putMap(meta, "labels", e.labels);
  putMap(meta, "annotations", e.annotations);
  Json owner = {{"apiVersion", "networking.istio.io/v1"},
                {"kind", "WorkloadGroup"},
                {"name", e.group},
                {"controller", true}};
  if (!e.group_uid.empty()) owner["uid"] = e.group_uid;
  meta["ownerReferences"] = Json::array({owner});

  Json spec = {{"address", e.address}};
  putMap(spec, "labels", e.labels);
  putMap(spec, "ports", e.ports);
  if (!e.service_account.empty()) spec["serviceAccount"] = e.service_account;
  if (!e.network.empty()) spec["network"] = e.network;
  if (!e.locality.empty()) spec["locality"] = e.locality;
  if (e.weight != 0) spec["weight"] = e.weight;

  Json out = {{"apiVersion", "networking.istio.io/v1"},
              {"kind", "WorkloadEntry"},
              {"metadata", meta},
              {"spec", spec}};
  if (e.health) {
    const HealthCondition& h = *e.health;
    Json cond = {{"type", "Healthy"}, {"status", h.healthy ? "True" : "False"}};
    if (!h.reason.empty()) cond["reason"] = h.reason;
    if (!h.message.empty()) cond["message"] = h.message;
    if (!h.last_probe_time.empty()) cond["lastProbeTime"] = h.last_probe_time;
    if (!h.last_transition_time.empty()) cond["lastTransitionTime"] = h.last_transition_time;
    out["status"] = {{"conditions", Json::array({cond})}};
  }
  return out;
}

Result<WorkloadEntry> entryFromJson(const Json& j, const std::string& source) {
  try {
    if (!j.is_object()) return invalid(source, "not an object");
    std::string api = j.value("apiVersion", "");
    if (api.rfind("networking.istio.io/", 0) != 0) {
      return invalid(source, "apiVersion \"" + api + "\" is not networking.istio.io/*");
    }
    if (j.value("kind", "") != "WorkloadEntry") return invalid(source, "kind is not WorkloadEntry");
    const Json& meta = j.at("metadata");
    WorkloadEntry e;
    e.name = meta.at("name").get<std::string>();
    e.name_space = meta.value("namespace", "default");
    if (meta.contains("labels"))
      e.labels = meta["labels"].get<std::map<std::string, std::string>>();
    if (meta.contains("annotations")) {
      e.annotations = meta["annotations"].get<std::map<std::string, std::string>>();
    }
    if (meta.contains("ownerReferences")) {
      for (const Json& o : meta["ownerReferences"]) {
        if (o.value("kind", "") == "WorkloadGroup") {
          e.group = o.value("name", "");
          e.group_uid = o.value("uid", "");
        }
      }
    }
    const Json& spec = j.at("spec");
    e.address = spec.value("address", "");
    if (e.address.empty()) return invalid(source, "spec.address is missing");
    if (spec.contains("labels"))
      e.labels = spec["labels"].get<std::map<std::string, std::string>>();
    if (spec.contains("ports")) e.ports = spec["ports"].get<std::map<std::string, uint32_t>>();
    e.service_account = spec.value("serviceAccount", "");
    e.network = spec.value("network", "");
    e.locality = spec.value("locality", "");
    e.weight = spec.value("weight", 0u);
    if (j.contains("status") && j["status"].contains("conditions")) {
      for (const Json& c : j["status"]["conditions"]) {
        if (c.value("type", "") != "Healthy") continue;
        HealthCondition h;
        h.healthy = c.value("status", "") == "True";
        h.reason = c.value("reason", "");
        h.message = c.value("message", "");
        h.last_probe_time = c.value("lastProbeTime", "");
        h.last_transition_time = c.value("lastTransitionTime", "");
        e.health = h;
      }
    }
    return e;
  } catch (const Json::exception& ex) {
    return invalid(source, ex.what());
  }
}

Result<WorkloadEntry> parseEntry(const std::string& text, const std::string& source) {
  try {
    // The library's message carries the line and column of the fault.
    return entryFromJson(Json::parse(text), source);
  } catch (const Json::parse_error& e) {
    return invalid(source, e.what());
  }
}

}  // namespace meshnode::agent
