#include "iptables/options_file.h"

#include <sstream>

namespace meshnode::iptables {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<CaptureOptions> parseOptionsText(const std::string& text, const std::string& path) {
  CaptureOptions options;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string location = path + ":" + std::to_string(number);
    std::string content = trim(line);
    if (content.empty() || content[0] == '#') continue;
    auto eq = content.find('=');
    if (eq == std::string::npos) {
      return makeError(ErrorCode::kParse, Side::kConfig,
                       location + ": expected 'name = value', got '" + content + "'");
    }
    std::string key = trim(content.substr(0, eq));
    std::string value = trim(content.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key.empty()) {
      return makeError(ErrorCode::kParse, Side::kConfig, location + ": option name missing");
    }
    if (auto it = options.find(key); it != options.end()) {
      return makeError(ErrorCode::kParse, Side::kConfig,
                       location + ": '" + key + "' is also set at " + it->second.location);
    }
    options[key] = OptionValue{value, location};
  }
  return options;
}

}  // namespace meshnode::iptables
