#pragma once

#include <string>

#include "agent/health/probe.h"

namespace meshnode::agent {

// One probe's verdict, with what a person reading the entry's condition needs.
struct ProbeOutcome {
  bool success = false;
  std::string reason;   // "HTTPGetSucceeded", "HTTPGetFailed", "TCPFailed", "ExecFailed"...
  std::string message;  // "GET http://127.0.0.1:8080/healthz: status 503"
};

// Runs the probe once, giving up after its timeoutSeconds. Blocks: runs on the prober's own
// thread, never on an event loop. Hosts must be IP addresses; an empty host is `default_host`.
ProbeOutcome runProbeOnce(const Probe& probe, const std::string& default_host);

}  // namespace meshnode::agent
