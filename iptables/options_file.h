#pragma once

#include <string>

#include "common/result.h"
#include "iptables/capture_options.h"

namespace meshnode::iptables {

// `key = value` lines, '#' comments, values optionally in double quotes; each value remembers
// "path:line". The format of `meshnode-iptables --options-file` and of the golden tests.
Result<CaptureOptions> parseOptionsText(const std::string& text, const std::string& path);

}  // namespace meshnode::iptables
