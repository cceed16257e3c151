#pragma once

#include <cstdint>

namespace meshnode::proxy {

// Requests in flight on this thread, that is on its worker: counted by the exchanges, read by
// the codecs to tell a worker whose requests' state still fits in the CPU's cache from one
// whose state goes cold between the steps of a request.
inline thread_local uint32_t requests_in_flight = 0;

// Above this many requests in flight a worker's per-request state (about 2 KiB each: the
// exchange, both streams, their header lists and pipes) no longer fits a core's 512 KiB L2
// cache, and work done on a request while its state is in cache beats work batched for later.
inline constexpr uint32_t kManyRequestsInFlight = 256;

}  // namespace meshnode::proxy
