#pragma once

#include <string>

#include "proxy/http/message.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// CORS as Envoy's CORS filter applies a route's policy. A request without an Origin, or with an
// Origin the policy does not allow, passes untouched (preflights included: the upstream answers
// them).

// The request's Origin when the policy allows it, else null.
const std::string* allowedOrigin(const CorsPolicy& policy, const RequestHead& request);

// OPTIONS with Origin and Access-Control-Request-Method.
bool isCorsPreflight(const RequestHead& request);

// The headers of the proxy's own 200 answer to an allowed preflight.
HeaderList corsPreflightHeaders(const CorsPolicy& policy, const std::string& origin);

// Adds the headers an actual (non-preflight) response carries for an allowed origin.
void addCorsResponseHeaders(HeaderList& headers, const CorsPolicy& policy,
                            const std::string& origin);

}  // namespace meshnode::proxy
