#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/result.h"

namespace meshnode::agent::supervisor {

// Who the proxy runs as: the credentials it gets, resolved from proxy.user once.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
};

// Looks `user` up in the passwd database; the error names the settings key.
Result<Credentials> lookupUser(const std::string& user);

struct SpawnSpec {
  std::string binary;
  std::vector<std::string> args;  // without argv[0]
  // Dropped to in the child before exec; nullopt keeps the agent's own.
  std::optional<Credentials> credentials;
  // Environment variables the child must not inherit (NOTIFY_SOCKET: only the agent speaks to
  // systemd).
  std::vector<std::string> unset_env;
  // "NAME=value" entries given to the child unless the agent's own environment has NAME, so an
  // operator's setting wins.
  std::vector<std::string> default_env;
};

// fork/exec with the child's supplementary groups dropped, gid and uid set, ambient
// capabilities cleared, signal mask and dispositions reset, and SIGTERM on the agent's death.
// An exec that fails is reported here (through a close-on-exec pipe), not as a crash later.
Result<pid_t> spawnProcess(const SpawnSpec& spec);

}  // namespace meshnode::agent::supervisor
