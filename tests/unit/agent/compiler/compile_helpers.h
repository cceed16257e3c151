#pragma once

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/compiler/compiler.h"
#include "agent/istio/loader.h"
#include "proxy/snapshot/snapshot_json.h"

namespace meshnode::compiler::testing {

using nlohmann::json;

// A mesh of one HTTP service with three versions, that most tests extend.
inline constexpr const char* kReviews = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  addresses: [198.18.100.11]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints:
  - {address: 198.18.1.1, labels: {version: v1}}
  - {address: 198.18.1.2, labels: {version: v2}}
  - {address: 198.18.1.3, labels: {version: v3}}
)";

inline NodeIdentity shopNode() {
  NodeIdentity n;
  n.ns = "shop";
  n.ip = "198.18.0.10";
  n.labels = {{"app", "web"}};
  return n;
}

struct Compiled {
  json doc;
  std::vector<std::string> warnings;

  // The outbound (or inbound) HTTP route table of a port.
  const json& table(uint32_t port, const char* direction = "outbound") const {
    for (const auto& t : doc["http_routes"])
      if (t["port"] == port && t["direction"] == direction) return t;
    ADD_FAILURE() << "no " << direction << " route table for port " << port;
    static const json none = json::object();
    return none;
  }
  const json& vhost(uint32_t port, const std::string& name) const {
    for (const auto& v : table(port)["virtual_hosts"])
      if (v["name"] == name) return v;
    ADD_FAILURE() << "no virtual host " << name << " on port " << port;
    static const json none = json::object();
    return none;
  }
  const json& routes(uint32_t port, const std::string& host) const {
    return vhost(port, host + ":" + std::to_string(port))["routes"];
  }
  const json& cluster(const std::string& name) const {
    for (const auto& c : doc["clusters"])
      if (c["name"] == name) return c;
    ADD_FAILURE() << "no cluster " << name;
    static const json none = json::object();
    return none;
  }
  bool hasCluster(const std::string& name) const {
    for (const auto& c : doc["clusters"])
      if (c["name"] == name) return true;
    return false;
  }
  json tcp(uint32_t port, const char* direction = "outbound") const {
    json out = json::array();
    for (const auto& r : doc["tcp_routes"])
      if (r["port"] == port && r["direction"] == direction) out.push_back(r);
    return out;
  }
  bool warned(const std::string& part) const {
    for (const auto& w : warnings)
      if (w.find(part) != std::string::npos) return true;
    return false;
  }
};

// Loads, compiles and checks that the proxy accepts the result.
inline Compiled compile(const std::string& yaml, NodeIdentity node = shopNode(),
                        ResolvedHosts resolved = {}, CompileOptions options = {}) {
  istio::Resources resources;
  istio::LoadReport report;
  istio::loadYaml(yaml, "test.yaml", &resources, &report);
  for (const auto& e : report.errors)
    ADD_FAILURE() << e;
  CompileInput in;
  in.resources = &resources;
  in.node = std::move(node);
  in.resolved = std::move(resolved);
  in.options = options;
  auto out = compileSnapshot(in);
  Compiled c;
  if (!out.ok()) {
    ADD_FAILURE() << out.error().describe();
    return c;
  }
  auto parsed = proxy::parseSnapshot(out->json, "compiled");
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe()) << "\n" << out->json;
  c.doc = json::parse(out->json);
  c.warnings = out->warnings;
  return c;
}

}  // namespace meshnode::compiler::testing
