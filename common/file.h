#pragma once

#include <string>

#include "common/result.h"

namespace meshnode {

// Whole-file reads and atomic replacement; only for start-up, reloads and tools, never on a
// worker thread.
Result<std::string> readFile(const std::string& path);

// Writes to a temporary file beside `path`, fsyncs it and renames it over `path`, so a reader
// sees the old content or the new, never a torn one.
Status writeFileAtomic(const std::string& path, const std::string& content);

}  // namespace meshnode
