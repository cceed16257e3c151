#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace meshnode::security {

// Istio's string match for authorization fields: "abc" exact, "abc*" prefix, "*abc" suffix,
// "*" any non-empty value. Paths also accept templates whose whole segments are "{*}" (one
// segment) or "{**}" (zero or more segments, at most once), e.g. "/api/{*}/books/{**}".
class StringPattern {
 public:
  enum class Kind { kExact, kPrefix, kSuffix, kPresence, kTemplate };

  static Result<StringPattern> parse(std::string_view pattern, bool ignore_case,
                                     bool path_template);

  bool matches(std::string_view value) const;
  Kind kind() const { return kind_; }

 private:
  bool matchSegments(size_t pi, const std::vector<std::string_view>& segs, size_t si) const;

  Kind kind_ = Kind::kExact;
  std::string text_;
  bool ignore_case_ = false;
  std::vector<std::string> segments_;  // kTemplate, after the leading '/'
};

}  // namespace meshnode::security
