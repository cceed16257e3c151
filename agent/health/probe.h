#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace meshnode::agent {

// The WorkloadGroup's spec.probe, with Kubernetes' field names and defaults.
struct HttpGetAction {
  std::string host;  // empty: the prober's default host
  uint16_t port = 0;
  std::string path = "/";
  std::string scheme = "HTTP";
  std::vector<std::pair<std::string, std::string>> headers;
};

struct TcpSocketAction {
  std::string host;
  uint16_t port = 0;
};

struct ExecAction {
  std::vector<std::string> command;
};

struct Probe {
  std::variant<HttpGetAction, TcpSocketAction, ExecAction> action;
  uint32_t initial_delay_seconds = 0;
  uint32_t period_seconds = 10;
  uint32_t timeout_seconds = 1;
  uint32_t success_threshold = 1;
  uint32_t failure_threshold = 3;
};

// Reads spec.probe as JSON (YAML documents convert one to one). `where` prefixes errors, e.g.
// "mesh/ratings.yaml: WorkloadGroup bookinfo/ratings-vm: spec.probe".
Result<Probe> parseProbe(const nlohmann::json& probe, const std::string& where);

}  // namespace meshnode::agent
