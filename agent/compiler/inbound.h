#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/compiler/compiler.h"

// This node as a workload: its labels, its own WorkloadEntry and the inbound side of the
// snapshot (routes and "inbound|<port>||" clusters for the ports its services expose).
namespace meshnode::compiler {

struct ResolvedNode {
  istio::Labels labels;
  const istio::WorkloadGroup* group = nullptr;
  // The WorkloadEntry registration would create for this host, when none is on file.
  std::vector<istio::WorkloadEntry> entries;
};

Result<ResolvedNode> resolveNode(const CompileInput& input);

void addInbound(const CompileInput& input, const ResolvedNode& node, nlohmann::json* http,
                nlohmann::json* tcp, nlohmann::json* clusters, std::vector<std::string>* warnings);

}  // namespace meshnode::compiler
