#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshnode::agent {

// The closest candidate within a small edit distance, or "" when none is close enough.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace meshnode::agent
