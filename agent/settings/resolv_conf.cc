#include "agent/settings/resolv_conf.h"

#include <sstream>

namespace meshnode::agent {

ResolvConf parseResolvConf(std::string_view text) {
  ResolvConf out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto hash = line.find_first_of("#;");
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string keyword;
    if (!(words >> keyword)) continue;
    if (keyword == "nameserver") {
      std::string server;
      if (words >> server) out.nameservers.push_back(server);
    } else if (keyword == "search" || keyword == "domain") {
      out.search.clear();
      std::string domain;
      while (words >> domain) {
        while (!domain.empty() && domain.back() == '.')
          domain.pop_back();
        if (!domain.empty()) out.search.push_back(domain);
      }
    }
  }
  return out;
}

}  // namespace meshnode::agent
