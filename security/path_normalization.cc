#include "security/path_normalization.h"

#include <vector>

namespace meshnode::security {

Result<PathNormalization> parsePathNormalization(std::string_view name) {
  if (name == "NONE") return PathNormalization::kNone;
  if (name == "BASE" || name == "DEFAULT") return PathNormalization::kBase;
  if (name == "MERGE_SLASHES") return PathNormalization::kMergeSlashes;
  if (name == "DECODE_AND_MERGE_SLASHES") return PathNormalization::kDecodeAndMergeSlashes;
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                   "pathNormalization '" + std::string(name) +
                       "': expected NONE, BASE, MERGE_SLASHES or DECODE_AND_MERGE_SLASHES");
}

const char* toString(PathNormalization mode) {
  switch (mode) {
    case PathNormalization::kNone:
      return "NONE";
    case PathNormalization::kBase:
      return "BASE";
    case PathNormalization::kMergeSlashes:
      return "MERGE_SLASHES";
    case PathNormalization::kDecodeAndMergeSlashes:
      return "DECODE_AND_MERGE_SLASHES";
  }
  return "?";
}

std::pair<std::string_view, std::string_view> splitPathAndQuery(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Percent-encoding normalization of RFC 3986 6.2.2: an escaped unreserved character is the
// character; every other escape is kept with upper-case hex. With `decode_slashes`, escaped
// '/' and '\' are decoded too.
std::string normalizeEscapes(std::string_view in, bool decode_slashes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        auto c = static_cast<unsigned char>(hi * 16 + lo);
        if (unreserved(c) || (decode_slashes && (c == '/' || c == '\\'))) {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += kHex[hi];
          out += kHex[lo];
        }
        i += 2;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

// RFC 3986 5.2.4, on '/'-separated segments; empty segments ("//") are kept.
std::string removeDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  std::string_view rest = path.substr(1);
  bool trailing_slash = false;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    bool last = slash == std::string_view::npos;
    if (seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  std::string result;
  for (std::string_view seg : out) {
    result += '/';
    result += seg;
  }
  if (trailing_slash || result.empty()) result += '/';
  return result;
}

std::string mergeSlashes(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  return out;
}

}  // namespace

Result<std::string> normalizePath(std::string_view path, PathNormalization mode) {
  if (path.empty() || path.front() != '/') {
    return makeError(ErrorCode::kProtocol, Side::kDownstream,
                     "request path '" + std::string(path) + "' does not start with '/'");
  }
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '#') {
      return makeError(ErrorCode::kProtocol, Side::kDownstream,
                       "request path holds a character that must be escaped");
    }
  }
  if (mode == PathNormalization::kNone) return std::string(path);
  std::string out = normalizeEscapes(path, mode == PathNormalization::kDecodeAndMergeSlashes);
  for (char& c : out) {
    if (c == '\\') c = '/';
  }
  out = removeDotSegments(out);
  if (mode == PathNormalization::kMergeSlashes ||
      mode == PathNormalization::kDecodeAndMergeSlashes) {
    out = mergeSlashes(out);
  }
  return out;
}

}  // namespace meshnode::security
