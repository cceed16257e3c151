#include "iptables/capture_options.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <vector>

#include <grp.h>
#include <pwd.h>

namespace meshnode::iptables {
namespace {

using Setter = std::function<bool(CaptureConfig&, const std::string&, std::string*)>;

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> splitList(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string item = trim(std::string_view(value).substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

bool parseNumber(const std::string& text, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v > max) return false;
  *out = v;
  return true;
}

bool parsePort(const std::string& text, uint16_t* out, std::string* error) {
  uint64_t v = 0;
  if (!parseNumber(text, 65535, &v) || v == 0) {
    *error = "'" + text + "' is not a port (1-65535)";
    return false;
  }
  *out = static_cast<uint16_t>(v);
  return true;
}

bool parsePorts(const std::string& value, std::vector<uint16_t>* out, std::string* error) {
  out->clear();
  for (const auto& item : splitList(value)) {
    uint16_t port = 0;
    if (!parsePort(item, &port, error)) return false;
    if (std::find(out->begin(), out->end(), port) == out->end()) out->push_back(port);
  }
  return true;
}

// A numeric id or a name looked up in the user or group database.
bool parseId(const std::string& text, bool group, uint32_t* out, std::string* error) {
  uint64_t v = 0;
  if (parseNumber(text, 0xfffffffe, &v)) {
    *out = static_cast<uint32_t>(v);
    return true;
  }
  std::vector<char> buf(16384);
  if (group) {
    struct group entry {};
    struct group* found = nullptr;
    if (::getgrnam_r(text.c_str(), &entry, buf.data(), buf.size(), &found) == 0 && found) {
      *out = found->gr_gid;
      return true;
    }
  } else {
    struct passwd entry {};
    struct passwd* found = nullptr;
    if (::getpwnam_r(text.c_str(), &entry, buf.data(), buf.size(), &found) == 0 && found) {
      *out = found->pw_uid;
      return true;
    }
  }
  *error = "'" + text + "' is neither a number nor a known " + (group ? "group" : "user");
  return false;
}

bool parseIds(const std::string& value, bool group, std::vector<uint32_t>* out,
              std::string* error) {
  out->clear();
  for (const auto& item : splitList(value)) {
    uint32_t id = 0;
    if (!parseId(item, group, &id, error)) return false;
    if (std::find(out->begin(), out->end(), id) == out->end()) out->push_back(id);
  }
  return true;
}

bool parseCidrs(const std::string& value, std::vector<Cidr>* out, std::string* error) {
  out->clear();
  for (const auto& item : splitList(value)) {
    auto cidr = parseCidr(item, error);
    if (!cidr) return false;
    if (std::find(out->begin(), out->end(), *cidr) == out->end()) out->push_back(*cidr);
  }
  return true;
}

// "*" alone means all; anything else is a list (possibly empty, meaning none).
bool isStar(const std::string& value, bool* all, std::string* error) {
  auto items = splitList(value);
  bool star = std::find(items.begin(), items.end(), "*") != items.end();
  if (star && items.size() > 1) {
    *error = "'*' cannot be combined with other values";
    return false;
  }
  *all = star;
  return true;
}

bool parseInterfaces(const std::string& value, std::vector<std::string>* out, std::string* error) {
  out->clear();
  for (const auto& item : splitList(value)) {
    // IFNAMSIZ-1 characters; the character set keeps the name safe inside rule text.
    bool ok = item.size() <= 15 && item.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-_.@") == std::string::npos;
    if (!ok) {
      *error = "'" + item + "' is not an interface name (at most 15 of A-Z a-z 0-9 - _ . @)";
      return false;
    }
    if (std::find(out->begin(), out->end(), item) == out->end()) out->push_back(item);
  }
  return true;
}

struct OptionDef {
  OptionInfo info;
  Setter set;
};

const std::vector<OptionDef>& optionDefs() {
  static const std::vector<OptionDef> defs = {
      {{"proxy_uid", "UID|USER", "user of the proxy; its traffic is never captured (1337)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parseId(v, false, &c.proxy_uid, e);
       }},
      {{"proxy_gid", "GID|GROUP", "group of the proxy; its traffic is never captured (1337)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parseId(v, true, &c.proxy_gid, e);
       }},
      {{"outbound_capture_port", "PORT", "where outbound TCP is redirected (15001)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parsePort(v, &c.outbound_capture_port, e);
       }},
      {{"inbound_capture_port", "PORT", "where inbound TCP is redirected (15006)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parsePort(v, &c.inbound_capture_port, e);
       }},
      {{"dns_capture_port", "PORT", "where captured DNS is redirected (15053)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parsePort(v, &c.dns_capture_port, e);
       }},
      {{"inbound_ports_include", "*|PORT,...",
        "inbound ports to capture, '*' for all, empty for none (*)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         if (!isStar(v, &c.inbound_ports_all, e)) return false;
         if (c.inbound_ports_all) {
           c.inbound_ports_include.clear();
           return true;
         }
         return parsePorts(v, &c.inbound_ports_include, e);
       }},
      {{"inbound_ports_exclude", "PORT,...", "inbound ports never captured (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parsePorts(v, &c.inbound_ports_exclude, e);
       }},
      {{"outbound_ips_include", "*|CIDR,...",
        "outbound destinations to capture, '*' for all, empty for none (*)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         if (!isStar(v, &c.outbound_ips_all, e)) return false;
         if (c.outbound_ips_all) {
           c.outbound_ips_include.clear();
           return true;
         }
         return parseCidrs(v, &c.outbound_ips_include, e);
       }},
      {{"outbound_ips_exclude", "CIDR,...", "outbound destinations never captured (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parseCidrs(v, &c.outbound_ips_exclude, e);
       }},
      {{"outbound_ports_exclude", "PORT,...", "outbound destination ports never captured (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parsePorts(v, &c.outbound_ports_exclude, e);
       }},
      {{"exclude_interfaces", "IFNAME,...", "interfaces whose traffic is never captured (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parseInterfaces(v, &c.exclude_interfaces, e);
       }},
      {{"exclude_uids", "UID|USER,...", "more users whose traffic is never captured (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parseIds(v, false, &c.exclude_uids, e);
       }},
      {{"exclude_gids", "GID|GROUP,...", "more groups whose traffic is never captured (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         return parseIds(v, true, &c.exclude_gids, e);
       }},
      {{"dns_capture", "none|host-resolvers|all",
        "DNS (port 53) sent to dns_capture_port: none, queries to /etc/resolv.conf's "
        "nameservers, or all (none)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         if (v == "none") {
           c.dns_capture = DnsCapture::kNone;
         } else if (v == "host-resolvers" || v == "host_resolvers") {
           c.dns_capture = DnsCapture::kHostResolvers;
         } else if (v == "all") {
           c.dns_capture = DnsCapture::kAll;
         } else {
           *e = "'" + v + "' is not one of none, host-resolvers, all";
           return false;
         }
         return true;
       }},
      {{"ipv6", "auto|true|false", "also capture IPv6; auto when the kernel has IPv6 (auto)"},
       [](CaptureConfig& c, const std::string& v, std::string* e) {
         if (v == "auto") {
           c.ipv6 = Ipv6Mode::kAuto;
         } else if (v == "true" || v == "on" || v == "1") {
           c.ipv6 = Ipv6Mode::kOn;
         } else if (v == "false" || v == "off" || v == "0") {
           c.ipv6 = Ipv6Mode::kOff;
         } else {
           *e = "'" + v + "' is not one of auto, true, false";
           return false;
         }
         return true;
       }},
  };
  return defs;
}

std::string portsText(const std::vector<uint16_t>& ports) {
  std::string out;
  for (auto p : ports)
    out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

}  // namespace

const std::vector<OptionInfo>& captureOptionInfo() {
  static const std::vector<OptionInfo> infos = [] {
    std::vector<OptionInfo> out;
    for (const auto& d : optionDefs())
      out.push_back(d.info);
    return out;
  }();
  return infos;
}

std::string canonicalOptionName(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '-', '_');
  for (const auto& d : optionDefs()) {
    if (d.info.name == n) return n;
  }
  return "";
}

Result<CaptureConfig> parseCaptureOptions(const CaptureOptions& options) {
  CaptureConfig config;
  std::map<std::string, std::string> seen;  // canonical name -> location
  auto fail = [](const std::string& location, const std::string& detail) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     (location.empty() ? std::string() : location + ": ") + detail);
  };
  // Options are applied in the table's order, so the result never depends on how the caller
  // ordered its keys.
  for (const auto& def : optionDefs()) {
    for (const auto& [key, option] : options) {
      std::string name = canonicalOptionName(key);
      if (name != def.info.name) continue;
      if (auto it = seen.find(name); it != seen.end()) {
        return fail(option.location, "capture option " + name + " is also set at " + it->second);
      }
      seen.emplace(name, option.location);
      std::string error;
      if (!def.set(config, trim(option.value), &error)) {
        return fail(option.location, "capture option " + name + ": " + error);
      }
    }
  }
  for (const auto& [key, option] : options) {
    if (canonicalOptionName(key).empty()) {
      std::string names;
      for (const auto& d : optionDefs())
        names += (names.empty() ? "" : ", ") + std::string(d.info.name);
      return fail(option.location, "unknown capture option '" + key + "' (known: " + names + ")");
    }
  }
  auto where = [&](const char* name) {
    auto it = seen.find(name);
    return it == seen.end() ? std::string() : it->second;
  };
  if (config.outbound_capture_port == config.inbound_capture_port ||
      config.outbound_capture_port == config.dns_capture_port ||
      config.inbound_capture_port == config.dns_capture_port) {
    return fail(where("inbound_capture_port"),
                "capture option inbound_capture_port, outbound_capture_port and "
                "dns_capture_port must differ");
  }
  std::vector<uint16_t> both;
  for (auto p : config.inbound_ports_include) {
    if (std::find(config.inbound_ports_exclude.begin(), config.inbound_ports_exclude.end(), p) !=
        config.inbound_ports_exclude.end()) {
      both.push_back(p);
    }
  }
  if (!both.empty()) {
    return fail(where("inbound_ports_exclude"), "capture option inbound_ports_exclude: port(s) " +
                                                    portsText(both) +
                                                    " also in inbound_ports_include");
  }
  return config;
}

Result<CaptureConfig> parseCaptureOptions(const std::map<std::string, std::string>& options,
                                          std::string_view source) {
  CaptureOptions located;
  for (const auto& [key, value] : options)
    located[key] = OptionValue{value, std::string(source)};
  return parseCaptureOptions(located);
}

}  // namespace meshnode::iptables
