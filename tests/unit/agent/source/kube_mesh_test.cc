#include "agent/source/kube_mesh.h"

#include <gtest/gtest.h>

#include "agent/source/kube_objects.h"

namespace meshnode::agent::source {
namespace {

using Json = nlohmann::json;

const KubeCollection& collection(const std::string& kind) {
  for (const auto& c : kubeCollections())
    if (c.kind == kind) return c;
  ADD_FAILURE() << "no collection " << kind;
  static const KubeCollection kNone;
  return kNone;
}

Json makeService(const std::string& ns, const std::string& name) {
  Json s = Json::parse(R"({
    "metadata": {"resourceVersion": "7", "labels": {"app": "web"},
                 "managedFields": [{"manager": "kubectl"}]},
    "spec": {"clusterIP": "198.18.10.1", "clusterIPs": ["198.18.10.1"],
             "selector": {"app": "web", "tier": "front"},
             "ports": [{"name": "http-web", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                       {"name": "metrics", "port": 9090, "appProtocol": "kubernetes.io/h2c"},
                       {"name": "dns", "port": 53, "protocol": "UDP"}]}
  })");
  s["metadata"]["name"] = name;
  s["metadata"]["namespace"] = ns;
  return s;
}

Json slice(const std::string& ns, const std::string& name, const std::string& service_name,
           Json endpoints) {
  Json s = Json::parse(R"({"addressType": "IPv4",
    "ports": [{"name": "http-web", "port": 8080, "protocol": "TCP"},
              {"name": "metrics", "port": 9091, "protocol": "TCP"}]})");
  s["metadata"] = {{"name", name},
                   {"namespace", ns},
                   {"labels", {{"kubernetes.io/service-name", service_name}}}};
  s["endpoints"] = std::move(endpoints);
  return s;
}

Json ready(const std::string& address, bool is_ready = true) {
  return {{"addresses", {address}}, {"conditions", {{"ready", is_ready}}}};
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

TEST(KubeObjectsTest, ProtocolIsInferredAsIstioDoes) {
  EXPECT_EQ(inferProtocol("TCP", "", "http-web"), "HTTP");
  EXPECT_EQ(inferProtocol("TCP", "", "grpc"), "GRPC");
  EXPECT_EQ(inferProtocol("", "", "web"), "");
  EXPECT_EQ(inferProtocol("", "kubernetes.io/h2c", "http"), "HTTP2");
  EXPECT_EQ(inferProtocol("", "https", "http"), "HTTPS");
  // appProtocol, once given, decides alone.
  EXPECT_EQ(inferProtocol("", "custom.example/x", "http"), "");
  EXPECT_EQ(inferProtocol("UDP", "", "http"), "UDP");
}

TEST(KubeObjectsTest, ServiceAndEndpointSlicesBecomeAServiceEntry) {
  Json a = slice("shop", "web-abc", "web", {ready("198.18.0.2"), ready("198.18.0.3", false)});
  Json b = slice("shop", "web-def", "web", {ready("198.18.0.4"), ready("198.18.0.2")});
  auto se = serviceEntryFor(makeService("shop", "web"), {&a, &b}, "cluster.local");
  ASSERT_TRUE(se) << se.error().detail;
  const Json& spec = (*se)["spec"];
  EXPECT_EQ((*se)["kind"], "ServiceEntry");
  EXPECT_EQ((*se)["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(spec["hosts"], Json::array({"web.shop.svc.cluster.local"}));
  EXPECT_EQ(spec["addresses"], Json::array({"198.18.10.1"}));
  EXPECT_EQ(spec["location"], "MESH_INTERNAL");
  EXPECT_EQ(spec["resolution"], "STATIC");
  ASSERT_EQ(spec["ports"].size(), 2u) << spec.dump();  // the UDP port is not carried
  EXPECT_EQ(spec["ports"][0], Json::parse(R"({"number": 80, "name": "http-web",
                                             "protocol": "HTTP", "targetPort": 8080})"));
  EXPECT_EQ(spec["ports"][1]["protocol"], "HTTP2");
  // Ready addresses only, once each, with each port's target from the slice.
  ASSERT_EQ(spec["endpoints"].size(), 2u) << spec.dump();
  EXPECT_EQ(spec["endpoints"][0]["address"], "198.18.0.2");
  EXPECT_EQ(spec["endpoints"][0]["ports"], Json::parse(R"({"http-web": 8080, "metrics": 9091})"));
  EXPECT_EQ(spec["endpoints"][0]["labels"], Json::parse(R"({"app": "web", "tier": "front"})"));
  EXPECT_EQ(spec["endpoints"][1]["address"], "198.18.0.4");
}

TEST(KubeObjectsTest, WithoutReadyEndpointsTheSelectorPicksWorkloadEntries) {
  Json none = slice("shop", "web-abc", "web", {ready("198.18.0.3", false)});
  auto se = serviceEntryFor(makeService("shop", "web"), {&none}, "corp.example");
  ASSERT_TRUE(se) << se.error().detail;
  EXPECT_EQ((*se)["spec"]["hosts"][0], "web.shop.svc.corp.example");
  EXPECT_FALSE((*se)["spec"].contains("endpoints"));
  EXPECT_EQ((*se)["spec"]["workloadSelector"]["labels"]["tier"], "front");

  Json selectorless = makeService("shop", "db");
  selectorless["spec"].erase("selector");
  auto absent = serviceEntryFor(selectorless, {}, "cluster.local");
  ASSERT_TRUE(absent);
  EXPECT_TRUE(absent->is_null());
}

TEST(KubeObjectsTest, ExternalNameIsAnExternalDnsEntry) {
  Json s = Json::parse(R"({"metadata": {"name": "db", "namespace": "shop"},
    "spec": {"type": "ExternalName", "externalName": "db.example.test",
             "ports": [{"port": 5432}]}})");
  auto se = serviceEntryFor(s, {}, "cluster.local");
  ASSERT_TRUE(se) << se.error().detail;
  EXPECT_EQ((*se)["spec"]["location"], "MESH_EXTERNAL");
  EXPECT_EQ((*se)["spec"]["resolution"], "DNS");
  EXPECT_EQ((*se)["spec"]["endpoints"][0]["address"], "db.example.test");
  EXPECT_EQ((*se)["spec"]["ports"][0]["name"], "port-5432");
}

TEST(KubeObjectsTest, AMalformedServiceNamesItsField) {
  Json s = makeService("shop", "web");
  s["spec"]["ports"][0].erase("port");
  auto se = serviceEntryFor(s, {}, "cluster.local");
  ASSERT_FALSE(se);
  EXPECT_EQ(se.error().detail,
            "kubernetes:Service/shop/web: spec.ports[0].port: is required and must be an integer");
}

TEST(KubeObjectsTest, FieldsOfTheWrongTypeAreAnErrorNotACrash) {
  Json s = makeService("shop", "web");
  s["spec"]["ports"][0]["name"] = 7;
  Json odd = slice("shop", "web-abc", "web", {ready("198.18.0.2")});
  odd["endpoints"][0]["conditions"]["ready"] = "yes";
  auto se = serviceEntryFor(makeService("shop", "web"), {&odd}, "cluster.local");
  ASSERT_TRUE(se) << se.error().detail;
  EXPECT_EQ((*se)["spec"]["endpoints"].size(), 1u);
  auto bad = serviceEntryFor(s, {}, "cluster.local");
  ASSERT_TRUE(bad);  // a non-string name reads as no name: "port-80"
  EXPECT_EQ((*bad)["spec"]["ports"][0]["name"], "port-80");
  Json not_object = makeService("shop", "web");
  not_object["metadata"] = "web";
  auto refused = serviceEntryFor(not_object, {}, "cluster.local");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("kubernetes:Service/"), std::string::npos);
}

TEST(KubeObjectsTest, StoredFormDropsWhatTheServerManages) {
  Json vs = Json::parse(R"({"metadata": {"name": "web", "namespace": "shop",
    "resourceVersion": "9", "uid": "u", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
    "spec": {"hosts": ["web"]}, "status": {"observedGeneration": 1}})");
  Json doc = storedForm(vs, collection("VirtualService"));
  EXPECT_EQ(doc, Json::parse(R"({"apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService", "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"hosts": ["web"]}})"));
}

// The store as the watches would fill it.
KubeObjectStore::ByKind mesh(const Json& route_header) {
  KubeObjectStore::ByKind objects;
  objects["Service"]["shop/web"] = storedForm(makeService("shop", "web"), collection("Service"));
  objects["EndpointSlice"]["shop/web-abc"] = storedForm(
      slice("shop", "web-abc", "web", {ready("198.18.0.2")}), collection("EndpointSlice"));
  Json vs = {{"metadata", {{"name", "web"}, {"namespace", "shop"}}},
             {"spec",
              {{"hosts", {"web.shop.svc.cluster.local"}},
               {"http",
                {{{"headers", {{"response", {{"set", {{"x-route", route_header}}}}}}},
                  {"route", {{{"destination", {{"host", "web.shop.svc.cluster.local"}}}}}}}}}}}};
  objects["VirtualService"]["shop/web"] = storedForm(vs, collection("VirtualService"));
  Json dr = {{"metadata", {{"name", "web"}, {"namespace", "shop"}}},
             {"spec", {{"host", "web.shop.svc.cluster.local"}}}};
  objects["DestinationRule"]["shop/web"] = storedForm(dr, collection("DestinationRule"));
  return objects;
}

TEST(KubeMeshBuilderTest, BuildsResourcesThroughTheLoader) {
  KubeMeshBuilder builder("cluster.local");
  KubeMeshLoad load = builder.build(mesh("v1"));
  EXPECT_TRUE(load.errors.empty()) << joined(load.errors);
  ASSERT_EQ(load.resources.service_entries.size(), 1u);
  const istio::ServiceEntry& se = load.resources.service_entries[0];
  EXPECT_EQ(se.meta.file, "kubernetes:Service/shop/web");
  EXPECT_EQ(se.location, istio::ServiceEntry::Location::kMeshInternal);
  ASSERT_EQ(se.endpoints.size(), 1u);
  EXPECT_EQ(se.endpoints[0].address, "198.18.0.2");
  EXPECT_EQ(se.endpoints[0].ports.at("http-web"), 8080u);
  ASSERT_EQ(load.resources.virtual_services.size(), 1u);
  EXPECT_EQ(load.resources.virtual_services[0].meta.file, "kubernetes:VirtualService/shop/web");
  EXPECT_EQ(load.resources.destination_rules.size(), 1u);
}

TEST(KubeMeshBuilderTest, AnInvalidObjectIsRejectedAloneAndItsLastGoodVersionApplies) {
  KubeMeshBuilder builder("cluster.local");
  ASSERT_TRUE(builder.build(mesh("v1")).errors.empty());

  KubeObjectStore::ByKind objects = mesh("v2");
  // The route now names no destination host: invalid.
  objects["VirtualService"]["shop/web"]["spec"]["http"][0]["route"][0]["destination"].erase("host");
  KubeMeshLoad load = builder.build(objects);
  std::string errors = joined(load.errors);
  EXPECT_NE(errors.find("kubernetes:VirtualService/shop/web:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("destination.host"), std::string::npos) << errors;
  EXPECT_NE(errors.find("its last good version keeps applying"), std::string::npos) << errors;
  // The other objects still apply; the route is its v1 self.
  EXPECT_EQ(load.resources.service_entries.size(), 1u);
  EXPECT_EQ(load.resources.destination_rules.size(), 1u);
  ASSERT_EQ(load.resources.virtual_services.size(), 1u);
  EXPECT_EQ(load.resources.virtual_services[0].http.at(0).headers.response.set.at(0).second, "v1");

  // The same bad version is not complained about at every rebuild.
  EXPECT_TRUE(builder.build(objects).errors.empty());
  // A fixed version replaces it; a deleted object leaves.
  KubeMeshLoad fixed = builder.build(mesh("v3"));
  EXPECT_TRUE(fixed.errors.empty()) << joined(fixed.errors);
  EXPECT_EQ(fixed.resources.virtual_services.at(0).http.at(0).headers.response.set.at(0).second,
            "v3");
  objects = mesh("v3");
  objects["VirtualService"].clear();
  EXPECT_TRUE(builder.build(objects).resources.virtual_services.empty());
}

TEST(KubeMeshBuilderTest, AnInvalidNewObjectStaysOut) {
  KubeMeshBuilder builder("cluster.local");
  KubeObjectStore::ByKind objects = mesh("v1");
  Json bad = {{"apiVersion", "networking.istio.io/v1"},
              {"kind", "ServiceEntry"},
              {"metadata", {{"name", "broken"}, {"namespace", "shop"}}},
              {"spec", {{"hosts", {"*"}}}}};
  objects["ServiceEntry"]["shop/broken"] = bad;
  KubeMeshLoad load = builder.build(objects);
  std::string errors = joined(load.errors);
  EXPECT_NE(errors.find("kubernetes:ServiceEntry/shop/broken:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("no earlier good version"), std::string::npos) << errors;
  ASSERT_EQ(load.resources.service_entries.size(), 1u);
  EXPECT_EQ(load.resources.service_entries[0].meta.name, "web");
  EXPECT_EQ(load.resources.virtual_services.size(), 1u);
}

TEST(KubeMeshBuilderTest, AnEndpointChangeReachesTheServiceEntry) {
  KubeMeshBuilder builder("cluster.local");
  KubeObjectStore::ByKind objects = mesh("v1");
  ASSERT_EQ(builder.build(objects).resources.service_entries.at(0).endpoints.size(), 1u);
  objects["EndpointSlice"]["shop/web-xyz"] = storedForm(
      slice("shop", "web-xyz", "web", {ready("198.18.0.7")}), collection("EndpointSlice"));
  KubeMeshLoad load = builder.build(objects);
  ASSERT_EQ(load.resources.service_entries.at(0).endpoints.size(), 2u);
  EXPECT_EQ(load.resources.service_entries[0].endpoints[1].address, "198.18.0.7");
}

}  // namespace
}  // namespace meshnode::agent::source
