#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "iptables/capture_config.h"

namespace meshnode::iptables {

// One option as the user wrote it, with where it was written ("agent.toml:14", "--proxy-uid"),
// so an error can point at it.
struct OptionValue {
  std::string value;
  std::string location;
};

// Keys are the CaptureConfig field names; '-' and '_' are interchangeable ("proxy-uid" is
// "proxy_uid"). Lists are comma separated. Values are strings whatever their TOML type.
using CaptureOptions = std::map<std::string, OptionValue>;

struct OptionInfo {
  std::string_view name;  // canonical, with underscores
  std::string_view value_hint;
  std::string_view help;
};

// Every option, in the order docs/capture.md and --help list them.
const std::vector<OptionInfo>& captureOptionInfo();

// Starts from CaptureConfig's defaults and applies each option. Errors name the location and
// the option: "agent.toml:14: capture option inbound_ports_exclude: '70000' is not a port".
Result<CaptureConfig> parseCaptureOptions(const CaptureOptions& options);

// The same for a plain key/value map; `source` locates every key ("agent.toml [capture]").
Result<CaptureConfig> parseCaptureOptions(const std::map<std::string, std::string>& options,
                                          std::string_view source);

// "proxy-uid" -> "proxy_uid"; empty when `name` is not an option.
std::string canonicalOptionName(std::string_view name);

}  // namespace meshnode::iptables
