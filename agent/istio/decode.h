#pragma once

#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "agent/istio/field_reader.h"
#include "agent/istio/resource.h"

// Per-kind decoders of a resource's `spec`, each validating what Istio's reference documents.
// They report through the FieldReader; a resource with any error is left out by the loader.
namespace meshnode::istio {

void decodeVirtualService(const YAML::Node& spec, FieldReader& r, VirtualService* out);
void decodeDestinationRule(const YAML::Node& spec, FieldReader& r, DestinationRule* out);
void decodeServiceEntry(const YAML::Node& spec, FieldReader& r, ServiceEntry* out);
// WorkloadEntry reads the whole document: its `status.conditions` carry health.
void decodeWorkloadEntry(const YAML::Node& doc, FieldReader& r, WorkloadEntry* out);
void decodeWorkloadGroup(const YAML::Node& spec, FieldReader& r, WorkloadGroup* out);
void decodeSidecar(const YAML::Node& spec, FieldReader& r, Sidecar* out);
void decodePeerAuthentication(const YAML::Node& spec, FieldReader& r, PeerAuthentication* out);
void decodeAuthorizationPolicy(const YAML::Node& spec, FieldReader& r, AuthorizationPolicy* out);
void decodeRequestAuthentication(const YAML::Node& spec, FieldReader& r,
                                 RequestAuthentication* out);

// Shared pieces.
void decodeWorkloadSpec(const YAML::Node& n, const std::string& path, FieldReader& r,
                        WorkloadSpec* out);
std::optional<Labels> decodeWorkloadSelector(const YAML::Node& spec, FieldReader& r);
// A host name as Istio accepts it: a DNS name, a short name, or a "*."-prefixed wildcard.
bool isValidHost(const std::string& host, bool allow_wildcard);
// An IPv4/IPv6 address, optionally with a /prefix.
bool isIpOrCidr(const std::string& text);
bool isIp(const std::string& text);

}  // namespace meshnode::istio
