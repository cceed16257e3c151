#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshnode::agent {

struct ResolvConf {
  std::vector<std::string> nameservers;
  std::vector<std::string> search;
};

// Reads the `nameserver` and `search`/`domain` lines as the glibc resolver does: the last
// `search` or `domain` line wins, comments start with '#' or ';'.
ResolvConf parseResolvConf(std::string_view text);

}  // namespace meshnode::agent
