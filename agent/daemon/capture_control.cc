#include "agent/daemon/capture_control.h"

#include "common/log.h"
#include "iptables/capture_lock.h"
#include "iptables/capture_options.h"
#include "iptables/rule_set.h"

namespace meshnode::agent::daemon {

Result<std::unique_ptr<CaptureControl>> CaptureControl::create(const AgentSettings& settings,
                                                               uint32_t proxy_uid,
                                                               uint32_t proxy_gid) {
  std::unique_ptr<CaptureControl> c(new CaptureControl());
  c->source_ = settings.file + " [capture]";
  c->state_dir_ = settings.paths.run_dir + "/iptables";
  std::map<std::string, std::string> options = settings.capture;
  if (auto it = options.find("enabled"); it != options.end()) {
    if (it->second != "true" && it->second != "false") {
      auto pos = settings.positionOf("capture.enabled");
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       settings.file + ":" + std::to_string(pos.line) +
                           ": capture.enabled: must be true or false, not '" + it->second + "'");
    }
    c->enabled_ = it->second == "true";
    options.erase(it);
  }
  bool has_uid = false, has_gid = false;
  for (const auto& [k, v] : options) {
    std::string name = iptables::canonicalOptionName(k);
    has_uid |= name == "proxy_uid";
    has_gid |= name == "proxy_gid";
  }
  if (!has_uid) options["proxy_uid"] = std::to_string(proxy_uid);
  if (!has_gid) options["proxy_gid"] = std::to_string(proxy_gid);
  auto config = iptables::parseCaptureOptions(options, c->source_);
  if (!config) return config.error();
  c->config_ = std::move(*config);
  if (!c->enabled_) return c;
  auto backend = iptables::resolveBackend(iptables::Backend::kAuto, c->executor_);
  if (!backend)
    return makeError(backend.error().code, Side::kSystem,
                     "capture: " + backend.error().detail +
                         " (install iptables or nftables, or set enabled = false in [capture])");
  c->capture_ = std::make_unique<iptables::Capture>(c->executor_, *backend, c->state_dir_);
  return c;
}

Status CaptureControl::apply() {
  if (!enabled_) return {};
  auto lock = iptables::CaptureLock::acquire(state_dir_);
  if (!lock) return lock.error();
  auto rules = iptables::buildRuleSet(config_, iptables::readHostFacts());
  auto changed = capture_->apply(rules);
  if (!changed) return changed.error();
  applied_ = true;
  LOG_NOTICE("capture %s", *changed ? "applied" : "already in place");
  return {};
}

Status CaptureControl::remove() {
  if (!enabled_ || !applied_) return {};
  auto lock = iptables::CaptureLock::acquire(state_dir_);
  if (!lock) return lock.error();
  auto removed = capture_->cleanup();
  if (!removed) return removed.error();
  applied_ = false;
  LOG_NOTICE("capture removed");
  return {};
}

}  // namespace meshnode::agent::daemon
