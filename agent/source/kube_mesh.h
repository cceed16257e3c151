#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/istio/resource.h"
#include "agent/source/kube_store.h"

namespace meshnode::agent::source {

// The mesh as the Kubernetes source last built it.
struct KubeMeshLoad {
  istio::Resources resources;
  // Only what changed since the previous build: an object is judged (and complained about)
  // once per version, not at every rebuild.
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

// Turns the store's objects into istio::Resources through the Istio loader, one object at a
// time, so that each is validated alone under its own source name
// ("kubernetes:VirtualService/shop/web:7: ..."). An object that fails keeps its last good
// version in the mesh (or stays out, when it never had one) while every other object applies;
// a deleted object leaves with all its versions. Services with their EndpointSlices become
// ServiceEntries (serviceEntryFor) and are judged the same way. Runs on the daemon's loop.
class KubeMeshBuilder {
 public:
  explicit KubeMeshBuilder(std::string domain_suffix) : domain_suffix_(std::move(domain_suffix)) {}

  KubeMeshLoad build(const KubeObjectStore::ByKind& objects);

 private:
  struct Verdict {
    std::string text;                 // the version last judged
    std::optional<std::string> good;  // the last version the loader accepted
  };

  void judge(const std::string& source, const std::string& text, KubeMeshLoad* load);

  std::string domain_suffix_;
  // Source name -> verdict; entries whose object is gone are dropped at each build.
  std::map<std::string, Verdict> verdicts_;
};

}  // namespace meshnode::agent::source
