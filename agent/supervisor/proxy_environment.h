#pragma once

namespace meshnode::agent::supervisor {

// glibc's malloc keeps up to 7 freed chunks of each size in a per-thread cache. A proxy worker
// allocates and frees the objects of requests in bursts (one read brings many HTTP/2 streams,
// one event loop turn many reads), which spill from that cache into the arena's slower bins;
// with room for 4096 they stay in it. The cache only ever holds chunks the worker freed, so it
// never holds more than the worker's earlier peak; resident memory is unchanged.
// The agent gives this to the proxy unless the operator set GLIBC_TUNABLES; bench/run.sh reads
// it from here. docs/performance.md has what it saves.
inline constexpr const char* kProxyMallocTunables = "glibc.malloc.tcache_count=4096";

}  // namespace meshnode::agent::supervisor
