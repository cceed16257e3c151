#pragma once

#include <memory>
#include <string>

#include "agent/settings/settings.h"
#include "common/result.h"
#include "iptables/capture.h"
#include "iptables/executor.h"

namespace meshnode::agent::daemon {

// The capture rules of agent.toml's [capture] section, installed and removed through the
// iptables library. `enabled = false` in [capture] turns capture off (hosts whose traffic is
// steered some other way, tests). The proxy's uid and gid default to proxy.user's. Runs on the
// daemon's loop thread; each call runs the firewall tools synchronously under the host-wide
// capture lock.
class CaptureControl {
 public:
  // `proxy_uid`/`proxy_gid`: the proxy's credentials, exempted unless [capture] says otherwise.
  static Result<std::unique_ptr<CaptureControl>> create(const AgentSettings& settings,
                                                        uint32_t proxy_uid, uint32_t proxy_gid);

  bool enabled() const { return enabled_; }
  // Installs (or updates) the rules; a no-op when disabled.
  Status apply();
  // Removes them; a no-op when disabled or never applied.
  Status remove();

 private:
  CaptureControl() = default;

  bool enabled_ = true;
  bool applied_ = false;
  std::string state_dir_;
  std::string source_;
  iptables::CaptureConfig config_;
  iptables::ProcessExecutor executor_;
  std::unique_ptr<iptables::Capture> capture_;
};

}  // namespace meshnode::agent::daemon
