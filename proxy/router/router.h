#pragma once

#include <random>
#include <string>

#include "proxy/http/message.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// The route table for a connection's direction and original destination port: a table for
// that port wins over the port-0 table. Null when HTTP is not routed on this port.
const HttpRouteTable* findRouteTable(const Snapshot& snapshot, Direction direction, uint16_t port);

// Envoy's virtual host selection: exact domain, then the longest "*.suffix", then the longest
// "prefix.*", then "*". The authority is tried as given and without its port.
const VirtualHost* selectVirtualHost(const HttpRouteTable& table, std::string_view authority);

// The first route whose match accepts the request, or null.
const Route* selectRoute(const VirtualHost& vhost, const RequestHead& request);

bool matchString(const StringMatch& m, std::string_view value);
bool matchRoute(const RouteMatch& match, const RequestHead& request);

// A weighted pick among the route's clusters.
const std::string& pickCluster(const Route& route, std::mt19937& rng);

// TCP or TLS route for a connection that is not routed as HTTP; null when none applies.
const TcpRoute* findTcpRoute(const Snapshot& snapshot, Direction direction, uint16_t port, bool v6,
                             const uint8_t* address, const std::string* sni);

}  // namespace meshnode::proxy
