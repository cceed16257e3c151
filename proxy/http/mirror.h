#pragma once

#include "proxy/http/message.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

class Worker;

// Starts a copy of the request to each of the route's mirror clusters that its percentage
// picks, as Envoy's request mirroring does: the authority gets "-shadow" appended, the answer
// is read and thrown away, and nothing the copy meets (no endpoint, a refused connection, a
// slow upstream) reaches the original request. Only requests without a body are copied: the
// body streams to one consumer and is not kept. Each copy holds the snapshot it started on.
// Runs on the worker's thread.
void mirrorRequest(Worker& worker, const SnapshotPtr& snapshot, const Route& route,
                   const RequestHead& head);

// The authority a mirrored request carries.
std::string shadowAuthority(const std::string& authority);

}  // namespace meshnode::proxy
