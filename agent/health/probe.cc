#include "agent/health/probe.h"

#include <nlohmann/json.hpp>

namespace meshnode::agent {
namespace {

using Json = nlohmann::json;

Error invalid(const std::string& where, const std::string& field, const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, Side::kConfig, where + "." + field + ": " + what);
}

Status readCount(const Json& j, const char* field, const std::string& where, uint32_t min,
                 uint32_t& into) {
  if (!j.contains(field)) return {};
  const Json& v = j[field];
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > 86400) {
    return invalid(where, field, "must be an integer from " + std::to_string(min) + " to 86400");
  }
  into = v.get<uint32_t>();
  return {};
}

Result<uint16_t> readPort(const Json& j, const std::string& where, const std::string& field) {
  if (!j.contains("port")) return invalid(where, field + ".port", "is required");
  const Json& v = j["port"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 65535) {
    // Named ports need the pod's container ports, which a host does not have.
    return invalid(where, field + ".port", "must be a port number from 1 to 65535");
  }
  return static_cast<uint16_t>(v.get<int64_t>());
}

std::string readString(const Json& j, const char* field, std::string fallback) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

}  // namespace

Result<Probe> parseProbe(const Json& j, const std::string& where) {
  if (!j.is_object()) return invalid(where, "", "must be an object");
  Probe p;
  struct Count {
    const char* field;
    uint32_t min;
    uint32_t* into;
  };
  const Count counts[] = {{"initialDelaySeconds", 0, &p.initial_delay_seconds},
                          {"periodSeconds", 1, &p.period_seconds},
                          {"timeoutSeconds", 1, &p.timeout_seconds},
                          {"successThreshold", 1, &p.success_threshold},
                          {"failureThreshold", 1, &p.failure_threshold}};
  for (const Count& c : counts) {
    if (auto s = readCount(j, c.field, where, c.min, *c.into); !s) return std::move(s).takeError();
  }
  int actions = static_cast<int>(j.contains("httpGet")) +
                static_cast<int>(j.contains("tcpSocket")) + static_cast<int>(j.contains("exec"));
  if (j.contains("grpc")) return invalid(where, "grpc", "gRPC probes are not supported");
  if (actions != 1) {
    return invalid(where, "", "needs exactly one of httpGet, tcpSocket and exec");
  }
  if (j.contains("httpGet")) {
    const Json& h = j["httpGet"];
    if (!h.is_object()) return invalid(where, "httpGet", "must be an object");
    HttpGetAction a;
    auto port = readPort(h, where, "httpGet");
    if (!port.ok()) return std::move(port).takeError();
    a.port = *port;
    a.host = readString(h, "host", "");
    a.path = readString(h, "path", "/");
    if (a.path.empty() || a.path.front() != '/') {
      return invalid(where, "httpGet.path", "must start with '/'");
    }
    if (a.path.find_first_of("\r\n ") != std::string::npos) {
      return invalid(where, "httpGet.path", "must not contain spaces or line breaks");
    }
    a.scheme = readString(h, "scheme", "HTTP");
    if (a.scheme != "HTTP" && a.scheme != "HTTPS") {
      return invalid(where, "httpGet.scheme", "must be HTTP or HTTPS, not \"" + a.scheme + "\"");
    }
    if (h.contains("httpHeaders")) {
      const Json& hs = h["httpHeaders"];
      if (!hs.is_array()) return invalid(where, "httpGet.httpHeaders", "must be a list");
      for (size_t i = 0; i < hs.size(); ++i) {
        std::string name = hs[i].is_object() ? readString(hs[i], "name", "") : "";
        std::string value = hs[i].is_object() ? readString(hs[i], "value", "") : "";
        std::string field = "httpGet.httpHeaders[" + std::to_string(i) + "]";
        if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
          return invalid(where, field, "needs a header name and a single-line value");
        }
        a.headers.emplace_back(name, value);
      }
    }
    p.action = a;
  } else if (j.contains("tcpSocket")) {
    const Json& t = j["tcpSocket"];
    if (!t.is_object()) return invalid(where, "tcpSocket", "must be an object");
    TcpSocketAction a;
    auto port = readPort(t, where, "tcpSocket");
    if (!port.ok()) return std::move(port).takeError();
    a.port = *port;
    a.host = readString(t, "host", "");
    p.action = a;
  } else {
    const Json& e = j["exec"];
    ExecAction a;
    if (!e.is_object() || !e.contains("command") || !e["command"].is_array() ||
        e["command"].empty()) {
      return invalid(where, "exec.command", "must be a non-empty list of strings");
    }
    for (const Json& word : e["command"]) {
      if (!word.is_string()) return invalid(where, "exec.command", "must list strings");
      a.command.push_back(word.get<std::string>());
    }
    p.action = a;
  }
  return p;
}

}  // namespace meshnode::agent
