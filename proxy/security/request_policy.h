#pragma once

#include "proxy/http/exchange.h"
#include "proxy/http/stream.h"
#include "proxy/snapshot/snapshot.h"

// The inbound security filters, in Istio's order: path normalization, RequestAuthentication
// (JWT), AuthorizationPolicy, then the x-forwarded-client-cert the upstream sees. They apply
// to inbound traffic (the policies are this workload's); outbound passes untouched. Run on the
// connection's worker.
namespace meshnode::proxy {

// TCP-level authorization of an inbound byte stream; false: close it.
bool authorizeConnection(const Snapshot& snapshot, const ConnectionInfo& info);

// Admits one HTTP request, rewriting its path and headers as the filters say; false when a
// local reply (400 bad path, 401 invalid token, 403 denied) was sent instead.
bool admitRequest(const Snapshot& snapshot, const ConnectionInfo& info,
                  DownstreamStream& downstream);

}  // namespace meshnode::proxy
