#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace meshnode::security {

// meshConfig.pathNormalization: how a request path is rewritten before authorization sees it
// and before it is forwarded.
enum class PathNormalization {
  kNone,                   // as received
  kBase,                   // RFC 3986: percent-encoding normalized, '\' -> '/', dot segments
  kMergeSlashes,           // kBase, then runs of '/' become one
  kDecodeAndMergeSlashes,  // %2F %2f %5C %5c decoded first, then kMergeSlashes
};

// "NONE", "BASE" (also "DEFAULT", Istio's default), "MERGE_SLASHES",
// "DECODE_AND_MERGE_SLASHES".
Result<PathNormalization> parsePathNormalization(std::string_view name);
const char* toString(PathNormalization mode);

// Normalizes the path part of a request target (no query). A path that does not start with
// '/' or holds control characters, space or '#' is a downstream error: the proxy answers 400.
Result<std::string> normalizePath(std::string_view path, PathNormalization mode);

// Splits "/a/b?x=1" into "/a/b" and "x=1".
std::pair<std::string_view, std::string_view> splitPathAndQuery(std::string_view target);

}  // namespace meshnode::security
