#include "security/string_pattern.h"

namespace meshnode::security {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal(std::string_view a, std::string_view b, bool ignore_case) {
  if (a.size() != b.size()) return false;
  if (!ignore_case) return a == b;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Error bad(std::string_view pattern, const char* why) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                   "'" + std::string(pattern) + "': " + why);
}

}  // namespace

Result<StringPattern> StringPattern::parse(std::string_view pattern, bool ignore_case,
                                           bool path_template) {
  StringPattern p;
  p.ignore_case_ = ignore_case;
  if (pattern.empty()) return bad(pattern, "empty value");
  if (path_template && pattern.find('{') != std::string_view::npos) {
    if (pattern.front() != '/') return bad(pattern, "a path template starts with '/'");
    if (pattern.find('*') != std::string_view::npos &&
        pattern.find("{*}") == std::string_view::npos &&
        pattern.find("{**}") == std::string_view::npos) {
      return bad(pattern, "'*' outside {*} or {**}");
    }
    int double_count = 0;
    for (std::string_view seg : split(pattern)) {
      bool op = seg == "{*}" || seg == "{**}";
      if (!op && (seg.find_first_of("{}*") != std::string_view::npos)) {
        return bad(pattern, "{*} and {**} must each be a whole path segment");
      }
      if (seg == "{**}") ++double_count;
      p.segments_.emplace_back(seg);
    }
    if (double_count > 1) return bad(pattern, "{**} may appear only once");
    p.kind_ = Kind::kTemplate;
    return p;
  }
  if (pattern == "*") {
    p.kind_ = Kind::kPresence;
  } else if (pattern.back() == '*') {
    p.kind_ = Kind::kPrefix;
    p.text_ = pattern.substr(0, pattern.size() - 1);
  } else if (pattern.front() == '*') {
    p.kind_ = Kind::kSuffix;
    p.text_ = pattern.substr(1);
  } else {
    p.kind_ = Kind::kExact;
    p.text_ = pattern;
  }
  if (p.text_.find('*') != std::string::npos) {
    return bad(pattern, "'*' is allowed only at the start or the end");
  }
  return p;
}

bool StringPattern::matchSegments(size_t pi, const std::vector<std::string_view>& segs,
                                  size_t si) const {
  if (pi == segments_.size()) return si == segs.size();
  const std::string& want = segments_[pi];
  if (want == "{**}") {
    for (size_t take = si; take <= segs.size(); ++take) {
      if (matchSegments(pi + 1, segs, take)) return true;
    }
    return false;
  }
  if (si == segs.size()) return false;
  if (want == "{*}") return !segs[si].empty() && matchSegments(pi + 1, segs, si + 1);
  return equal(want, segs[si], ignore_case_) && matchSegments(pi + 1, segs, si + 1);
}

bool StringPattern::matches(std::string_view value) const {
  switch (kind_) {
    case Kind::kPresence:
      return !value.empty();
    case Kind::kExact:
      return equal(text_, value, ignore_case_);
    case Kind::kPrefix:
      return value.size() >= text_.size() &&
             equal(text_, value.substr(0, text_.size()), ignore_case_);
    case Kind::kSuffix:
      return value.size() >= text_.size() &&
             equal(text_, value.substr(value.size() - text_.size()), ignore_case_);
    case Kind::kTemplate:
      if (value.empty() || value.front() != '/') return false;
      return matchSegments(0, split(value), 0);
  }
  return false;
}

}  // namespace meshnode::security
