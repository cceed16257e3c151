#pragma once

#include <chrono>
#include <string>

#include "security/workload_identity.h"

namespace meshnode::proxy {

// The workload certificate's and the trust bundle's expiry as Prometheus gauges, labelled with
// the workload's SPIFFE ID (and each root's subject), so an alert can fire before a rotation
// that never came lets the certificate lapse. Reads an immutable identity; any thread.
std::string identityPrometheus(const security::WorkloadIdentity& identity,
                               security::SystemTime now);

// The same for the identity in force (TlsStore); empty when the proxy has none.
std::string currentIdentityPrometheus(security::SystemTime now);

}  // namespace meshnode::proxy
