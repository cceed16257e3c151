#include "agent/istio/decode.h"

namespace meshnode::istio {

void decodeWorkloadEntry(const YAML::Node& doc, FieldReader& r, WorkloadEntry* out) {
  const YAML::Node spec = doc["spec"];
  decodeWorkloadSpec(spec, "spec", r, &out->spec);
  if (out->spec.address.empty())
    r.error(spec, "spec.address", "is required");
  else if (!isIp(out->spec.address) && !isValidHost(out->spec.address, false))
    r.error(spec["address"], "spec.address",
            "\"" + out->spec.address + "\" is neither an IP address nor a host name");
  // A registered host's health lives in status.conditions, as Istio's auto-registration writes.
  const YAML::Node status = doc["status"];
  const YAML::Node conditions = isMapNode(status) ? status["conditions"] : YAML::Node();
  if (isSeqNode(conditions))
    for (const auto& c : conditions)
      if (scalarAt(c, "type") == "Healthy" && !scalarAt(c, "status").empty())
        out->healthy = scalarAt(c, "status") != "False";
}

void decodeWorkloadGroup(const YAML::Node& spec, FieldReader& r, WorkloadGroup* out) {
  const std::string p = "spec";
  r.known(spec, p, {"metadata", "template", "probe"});
  if (const YAML::Node m = spec["metadata"]; m.IsDefined() && r.isMap(m, p + ".metadata")) {
    r.known(m, p + ".metadata", {"labels", "annotations"});
    out->labels = r.labels(m, p + ".metadata", "labels");
  }
  const YAML::Node t = spec["template"];
  if (!t.IsDefined()) {
    r.error(spec, p + ".template", "is required");
    return;
  }
  decodeWorkloadSpec(t, p + ".template", r, &out->template_);
  if (!out->template_.address.empty())
    r.warn(t["address"], p + ".template.address",
           "is ignored; each registered host supplies its own address");
}

}  // namespace meshnode::istio
