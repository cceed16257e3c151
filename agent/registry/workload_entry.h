#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace meshnode::agent {

inline constexpr const char* kAutoRegistrationGroup = "istio.io/autoRegistrationGroup";
inline constexpr const char* kConnectedAt = "istio.io/connectedAt";
inline constexpr const char* kDisconnectedAt = "istio.io/disconnectedAt";

// What a WorkloadGroup says its workloads look like (metadata and spec.template).
struct WorkloadTemplate {
  std::string group;
  std::string name_space;
  // The group's metadata.uid, for the owner reference; unknown for groups read from files.
  std::string group_uid;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string service_account;
  std::string network;
  std::string locality;
  uint32_t weight = 0;
  std::map<std::string, uint32_t> ports;
};

// status.conditions[type=Healthy].
struct HealthCondition {
  bool healthy = false;
  std::string reason;
  std::string message;
  std::string last_probe_time;
  std::string last_transition_time;

  bool operator==(const HealthCondition&) const = default;
};

// A WorkloadEntry as Istio's auto-registration writes it.
struct WorkloadEntry {
  std::string name;
  std::string name_space;
  std::string group;
  std::string group_uid;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string address;
  std::string service_account;
  std::string network;
  std::string locality;
  uint32_t weight = 0;
  std::map<std::string, uint32_t> ports;
  std::optional<HealthCondition> health;

  bool disconnected() const { return annotations.count(kDisconnectedAt) != 0; }
  bool operator==(const WorkloadEntry&) const = default;
};

// "<group>-<address>" with dots and colons as dashes: "ratings-vm-198-18-0-10".
std::string entryName(const std::string& group, const std::string& address);

// RFC 3339 with nanoseconds, as Kubernetes writes times ("2026-11-26T09:00:00.123456789Z").
std::string rfc3339(std::chrono::system_clock::time_point t);

// The entry Istio would create for a workload of `tmpl` at `address` connecting at `now`.
WorkloadEntry makeEntry(const WorkloadTemplate& tmpl, const std::string& address,
                        std::chrono::system_clock::time_point now);

nlohmann::json toJson(const WorkloadEntry& entry);
// `source` names the file or API object in errors.
Result<WorkloadEntry> entryFromJson(const nlohmann::json& json, const std::string& source);
Result<WorkloadEntry> parseEntry(const std::string& text, const std::string& source);

}  // namespace meshnode::agent
