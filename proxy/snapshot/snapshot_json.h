#pragma once

#include <string>

#include "common/result.h"
#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

inline constexpr int kSnapshotSchema = 1;

// Parses and validates a snapshot document. Errors name the origin (a file name), the line for
// syntax errors, and the field path ("clusters[2].endpoints[0].port") for semantic ones.
Result<SnapshotPtr> parseSnapshot(const std::string& json, const std::string& origin);

// Reads and parses a snapshot file.
Result<SnapshotPtr> loadSnapshotFile(const std::string& path);

bool parseCidr(const std::string& text, Cidr* out);
bool cidrContains(const Cidr& cidr, bool v6, const uint8_t* addr);

}  // namespace meshnode::proxy
