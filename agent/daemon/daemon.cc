#include "agent/daemon/daemon.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/daemon/group_probe.h"
#include "agent/health/probe.h"
#include "agent/registry/file_registry.h"
#include "agent/registry/kube_registry.h"
#include "agent/status/http_get.h"
#include "agent/supervisor/proxy_environment.h"
#include "common/file.h"
#include "common/log.h"

namespace meshnode::agent::daemon {
namespace {

constexpr int kExOk = 0;
constexpr int kExNoInput = 66;
constexpr int kExUnavailable = 69;
constexpr int kExOsErr = 71;
constexpr int kExConfig = 78;

constexpr auto kTurn = std::chrono::milliseconds(500);
constexpr auto kDrain = std::chrono::seconds(5);

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> proxyArgs(const AgentSettings& s) {
  return {"--snapshot",         s.proxy.snapshot,
          "--concurrency",      std::to_string(s.proxy.concurrency),
          "--admin-address",    "127.0.0.1",
          "--admin-port",       std::to_string(s.proxy.admin_port),
          "--drain-timeout-ms", std::to_string(std::chrono::milliseconds(kDrain).count())};
}

Result<std::unique_ptr<Registry>> makeRegistry(const AgentSettings& s) {
  if (s.registry.type == RegistrySettings::Type::kFile)
    return std::unique_ptr<Registry>(
        std::make_unique<FileRegistry>(FileRegistryOptions{s.registry.directory}));
  KubeRegistryOptions o;
  o.api_server = s.registry.api_server;
  o.token_file = s.registry.token_file;
  o.ca_file = s.registry.ca_file;
  o.name_space = s.workload.name_space;
  auto kube = KubeRegistry::create(o);
  if (!kube) return kube.error();
  return std::unique_ptr<Registry>(std::move(kube).value());
}

// The group's probe from what the Kubernetes watches hold.
Result<std::optional<Probe>> kubeGroupProbe(const source::KubeSource& kube,
                                            const AgentSettings& s) {
  auto json = kube.groupProbe(s.workload.name_space, s.workload.group);
  if (!json) return std::optional<Probe>();
  auto probe = parseProbe(
      *json, source::kubeSourceName("WorkloadGroup", s.workload.name_space, s.workload.group) +
                 ": spec.probe");
  if (!probe) return probe.error();
  return std::optional<Probe>(std::move(*probe));
}

}  // namespace

Daemon::Daemon(DaemonOptions options, Notifier& notifier)
    : options_(std::move(options)), notifier_(notifier) {}

Daemon::~Daemon() = default;

void Daemon::setStatus(const std::string& text) {
  LOG_INFO("%s", text.c_str());
  notifier_.status(text);
}

int Daemon::run() {
  // Blocked before any thread starts, so every thread inherits the mask and the signals reach
  // only the signalfd.
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD})
    sigaddset(&mask, s);
  ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  // A peer that closes early (a status client, a firewall tool's stdin) is an error value,
  // never the end of the agent.
  ::signal(SIGPIPE, SIG_IGN);
  signals_ = UniqueFd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_.valid()) {
    LOG_ERROR("signalfd: %s", std::strerror(errno));
    return kExOsErr;
  }
  int rc = startUp();
  if (rc != kExOk) {
    shutDown();
    return rc;
  }
  loop();
  shutDown();
  return kExOk;
}

int Daemon::startUp() {
  setStatus("reading " + options_.config_path);
  auto load = loadSettings(options_.config_path, readHostFacts());
  for (const auto& p : load.problems)
    LOG_ERROR("%s", p.describe().c_str());
  if (!load.settings) return kExConfig;
  settings_ = std::move(*load.settings);

  auto server =
      status::StatusServer::start(options_.status_address, options_.status_port,
                                  [this](const std::string& p) { return handleStatus(p); });
  if (!server) {
    LOG_ERROR("%s", server.error().detail.c_str());
    return kExOsErr;
  }
  status_server_ = std::move(*server);

  auto user = supervisor::lookupUser(settings_.proxy.user);
  if (!user) {
    LOG_ERROR("%s: %s", settings_.file.c_str(), user.error().detail.c_str());
    return kExConfig;
  }
  proxy_user_ = *user;

  if (settings_.config.kubernetes()) {
    auto kube = source::KubeSource::start(kubeSourceOptions(settings_, options_.debounce));
    if (!kube) {
      LOG_ERROR("%s: config.api_server: %s", settings_.file.c_str(), kube.error().detail.c_str());
      return kExConfig;
    }
    kube_ = std::move(*kube);
    setStatus("listing the mesh from " + settings_.config.api_server);
    // Unreachable at start: the last good snapshot on disk serves while the watches retry.
    kube_->waitForSync(std::chrono::seconds(5));
  }
  if (auto jwks = source::JwksFetcher::create({}); jwks)
    jwks_ = std::move(*jwks);
  else
    LOG_ERROR("jwksUri keys will not be fetched: %s", jwks.error().detail.c_str());
  auto now = Clock::now();
  if (!kube_) setStatus("loading mesh from " + settings_.config.directory);
  resolved_ =
      std::make_unique<source::ResolvedHostTable>(std::chrono::seconds(settings_.dns.ttl_floor),
                                                  std::chrono::seconds(settings_.dns.ttl_ceiling));
  // Without a snapshot: either no source and nothing on disk, or a mesh this node cannot
  // compile for (an unknown group), which is a settings problem.
  if (!refreshMesh(now)) return resources_ ? kExConfig : kExNoInput;
  if (!kube_) {
    auto watch = source::DirectoryWatch::create(settings_.config.directory, options_.debounce,
                                                options_.debounce * 5);
    if (!watch) {
      LOG_ERROR("%s", watch.error().detail.c_str());
      return kExOsErr;
    }
    watch_ = std::move(*watch);
  }

  setStatus("applying capture");
  auto capture = CaptureControl::create(settings_, proxy_user_.uid, proxy_user_.gid);
  if (!capture) {
    LOG_ERROR("%s", capture.error().detail.c_str());
    return kExConfig;
  }
  capture_ = std::move(*capture);
  if (Status st = capture_->apply(); !st) {
    LOG_ERROR("capture: %s", st.error().detail.c_str());
    return kExOsErr;
  }

  if (settings_.dns.enabled) {
    setStatus("starting DNS proxy on " + settings_.dns.listen_address + ":" +
              std::to_string(settings_.dns.listen_port));
    dns::DnsProxyOptions o;
    o.listen_address = settings_.dns.listen_address;
    o.listen_port = settings_.dns.listen_port;
    o.upstreams = settings_.dns.upstreams;
    o.ttl_floor = settings_.dns.ttl_floor;
    o.ttl_ceiling = settings_.dns.ttl_ceiling;
    o.mesh_ttl = settings_.dns.mesh_ttl;
    auto table =
        dns::NameTable::build(resources_ ? meshHosts(*resources_) : std::vector<dns::MeshHost>{},
                              settings_.dns.search_domains, {"cluster.local"});
    if (!table) {
      LOG_ERROR("dns: %s", table.error().detail.c_str());
      return kExConfig;
    }
    auto proxy = dns::DnsProxy::start(o, std::make_shared<const dns::NameTable>(std::move(*table)));
    if (!proxy) {
      LOG_ERROR("%s: dns: %s", settings_.file.c_str(), proxy.error().detail.c_str());
      return kExConfig;
    }
    dns_proxy_ = std::move(*proxy);
  }

  setStatus("starting proxy " + settings_.proxy.binary + " as " + settings_.proxy.user);
  supervisor::SupervisorOptions so;
  so.spawn.binary = settings_.proxy.binary;
  so.spawn.args = proxyArgs(settings_);
  so.spawn.credentials = proxy_user_;
  so.spawn.unset_env = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
  so.spawn.default_env = {std::string("GLIBC_TUNABLES=") + supervisor::kProxyMallocTunables};
  so.stop_timeout = kDrain + std::chrono::seconds(2);
  proxy_ = std::make_unique<supervisor::ProxySupervisor>(std::move(so));
  if (Status st = proxy_->start(Clock::now()); !st) {
    LOG_ERROR("%s: %s", settings_.file.c_str(), st.error().detail.c_str());
    return kExConfig;
  }
  setStatus("waiting for the proxy to be ready on 127.0.0.1:" +
            std::to_string(settings_.proxy.admin_port));
  if (!waitProxyReady(options_.ready_timeout)) return kExUnavailable;

  setStatus("registering " + entryName(settings_.workload.group, settings_.workload.address) +
            " in the " +
            (settings_.registry.type == RegistrySettings::Type::kFile ? "file" : "kubernetes") +
            " registry");
  auto registry = makeRegistry(settings_);
  if (!registry) {
    LOG_ERROR("%s: registry: %s", settings_.file.c_str(), registry.error().detail.c_str());
    return kExConfig;
  }
  registry_ = std::move(*registry);
  registerEntry(Clock::now());
  startProbe();

  ready_ = true;
  notifier_.ready();
  setStatus("serving snapshot " + snapshot_.version);
  if (auto timeout = notifier_.watchdogTimeout()) {
    auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout).count();
    last_turn_ms_ = nowMs();
    watchdog_ = std::make_unique<WatchdogPinger>(notifier_, *timeout, [this, limit] {
      // A loop that has not turned for half the timeout is stuck.
      return nowMs() - last_turn_ms_.load() < std::max<int64_t>(limit / 2, 2 * kTurn.count());
    });
  }
  return kExOk;
}

bool Daemon::refreshMesh(Clock::time_point now) {
  auto mesh = loadFromSource(settings_, kube_.get(), resources_ ? &*resources_ : nullptr);
  if (!mesh) {
    ++metrics_.config_source_errors;
    if (!snapshot_.json.empty()) {
      LOG_WARN("%s; the proxy keeps serving snapshot %s", mesh.error().detail.c_str(),
               snapshot_.version.c_str());
      notifier_.status("config source unavailable; serving snapshot " + snapshot_.version);
      return true;
    }
    // At start with no source: the last good snapshot on disk, as after a reboot with the
    // control plane away.
    auto last = readSnapshotFile(settings_.proxy.snapshot);
    if (!last) {
      LOG_ERROR("%s, and no last good snapshot at %s: %s", mesh.error().detail.c_str(),
                settings_.proxy.snapshot.c_str(), last.error().detail.c_str());
      return false;
    }
    LOG_WARN("%s; serving the last good snapshot %s from %s", mesh.error().detail.c_str(),
             last->version.c_str(), settings_.proxy.snapshot.c_str());
    snapshot_ = std::move(*last);
    metrics_.snapshot_version = snapshot_.version;
    return true;
  }
  for (const auto& e : mesh->errors)
    LOG_ERROR("%s", e.c_str());
  for (const auto& w : mesh->warnings)
    LOG_WARN("%s", w.c_str());
  resources_ = std::move(mesh->resources);
  if (resolved_->setHosts(compiler::hostsToResolve(*resources_), now)) recompile_pending_ = true;
  startResolving(now);
  if (snapshot_.json.empty()) resolveFirstAnswers(std::chrono::seconds(2));
  if (jwks_) {
    jwks_->setUris(jwksUrisFor(settings_, *resources_));
    if (snapshot_.json.empty()) fetchFirstKeys(std::chrono::seconds(3));
    jwks_generation_ = jwks_->generation();
  }
  if (dns_proxy_) {
    auto table = dns::NameTable::build(meshHosts(*resources_), settings_.dns.search_domains,
                                       {"cluster.local"});
    if (table)
      dns_proxy_->setTable(std::make_shared<const dns::NameTable>(std::move(*table)));
    else
      LOG_ERROR("dns: %s", table.error().detail.c_str());
  }
  recompile("config change");
  return !snapshot_.json.empty();
}

void Daemon::recompile(const char* why) {
  recompile_pending_ = false;
  if (!resources_) return;
  auto compiled = compileFor(settings_, *resources_, resolved_->resolved(),
                             jwks_ ? jwks_->documents() : std::map<std::string, std::string>{});
  if (!compiled) {
    ++metrics_.snapshot_compile_errors;
    LOG_ERROR("%s: %s%s", settings_.file.c_str(), compiled.error().detail.c_str(),
              snapshot_.json.empty() ? "" : "; the proxy keeps serving the last good snapshot");
    return;
  }
  if (compiled->version == snapshot_.version && !snapshot_.json.empty()) return;
  if (Status st = writeFileAtomic(settings_.proxy.snapshot, compiled->json); !st) {
    LOG_ERROR("proxy.snapshot %s: %s", settings_.proxy.snapshot.c_str(), st.error().detail.c_str());
    return;
  }
  // The proxy runs as another user and only reads it; it holds no secret.
  ::chmod(settings_.proxy.snapshot.c_str(), 0644);
  snapshot_ = std::move(*compiled);
  metrics_.snapshot_version = snapshot_.version;
  ++metrics_.snapshots_applied;
  if (proxy_) proxy_->reload();
  LOG_NOTICE("snapshot %s written (%s)", snapshot_.version.c_str(), why);
  if (ready_) notifier_.status("serving snapshot " + snapshot_.version);
}

void Daemon::fetchFirstKeys(std::chrono::milliseconds budget) {
  size_t wanted = jwksUrisFor(settings_, *resources_).size();
  auto deadline = Clock::now() + budget;
  while (jwks_->attempts() < wanted && Clock::now() < deadline) {
    pollfd p{jwks_->pollFd(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) > 0)
      jwks_->onReadable();
  }
}

void Daemon::startResolving(Clock::time_point now) {
  auto due = resolved_->takeDue(now);
  if (due.empty()) return;
  if (!resolver_) {
    auto r =
        source::HostResolver::create(settings_.dns.upstreams, std::chrono::milliseconds(500), 2);
    if (!r) {
      LOG_ERROR("%s: %s", settings_.file.c_str(), r.error().detail.c_str());
      for (const auto& h : due)
        resolved_->onAnswer(h, r.error(), now);
      return;
    }
    resolver_ = std::move(*r);
  }
  for (const auto& host : due)
    resolver_->resolve(host, [this, host](Result<source::Answer> answer) {
      if (resolved_->onAnswer(host, answer, Clock::now())) recompile_pending_ = true;
    });
}

void Daemon::resolveFirstAnswers(std::chrono::milliseconds budget) {
  auto deadline = Clock::now() + budget;
  while (resolver_ && resolved_->waitingForFirstAnswer() && Clock::now() < deadline) {
    auto fds = resolver_->pollFds();
    auto wait = resolver_->nextTimeout().value_or(std::chrono::milliseconds(50));
    ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(wait.count(), 50)));
    resolver_->process(fds);
  }
}

bool Daemon::waitProxyReady(std::chrono::milliseconds budget) {
  auto deadline = Clock::now() + budget;
  std::string last_error = "no answer yet";
  while (Clock::now() < deadline) {
    if (proxy_->reap(Clock::now())) {
      LOG_ERROR("proxy %s before it was ready; see its log lines above (%s %s)",
                proxy_->lastExit().c_str(), settings_.proxy.binary.c_str(),
                settings_.proxy.snapshot.c_str());
      return false;
    }
    auto reply = status::httpGet("127.0.0.1", settings_.proxy.admin_port, "/ready",
                                 std::chrono::milliseconds(200));
    if (reply && reply->status == 200) return true;
    last_error = reply ? "HTTP " + std::to_string(reply->status) : reply.error().detail;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  LOG_ERROR("proxy not ready on 127.0.0.1:%u (proxy.admin_port) after %lld ms: %s",
            settings_.proxy.admin_port, static_cast<long long>(budget.count()), last_error.c_str());
  return false;
}

void Daemon::registerEntry(Clock::time_point now) {
  WorkloadTemplate tmpl =
      workloadTemplate(settings_, resources_ ? *resources_ : istio::Resources{});
  entry_ = makeEntry(tmpl, settings_.workload.address, std::chrono::system_clock::now());
  if (Status st = registry_->registerEntry(entry_); !st) {
    LOG_WARN("registry: %s; retrying in %lld ms", st.error().detail.c_str(),
             static_cast<long long>(register_backoff_.count()));
    register_retry_at_ = now + register_backoff_;
    register_backoff_ = std::min(register_backoff_ * 2, std::chrono::milliseconds(30000));
    return;
  }
  registered_ = true;
  LOG_NOTICE("registered %s/%s", entry_.name_space.c_str(), entry_.name.c_str());
}

void Daemon::startProbe() {
  auto probe = kube_ ? kubeGroupProbe(*kube_, settings_)
                     : findGroupProbe(settings_.config.directory, settings_.workload.group,
                                      settings_.workload.name_space);
  if (!probe) {
    LOG_ERROR("%s; the entry gets no Healthy condition", probe.error().detail.c_str());
    return;
  }
  if (!*probe) return;
  health_ = std::make_unique<HealthReporter>(*registry_, settings_.workload.name_space, entry_.name,
                                             HealthReporter::Backoff{});
  prober_ = std::make_unique<Prober>(**probe, "127.0.0.1", [this](const HealthTransition& t) {
    std::lock_guard lock(transitions_mutex_);
    transitions_.push_back(t);
  });
  LOG_NOTICE("probing workload health for %s", entry_.name.c_str());
}

void Daemon::reportHealth(Clock::time_point now) {
  if (!health_ || !registered_) return;
  std::deque<HealthTransition> arrived;
  {
    std::lock_guard lock(transitions_mutex_);
    arrived.swap(transitions_);
  }
  for (const HealthTransition& t : arrived) {
    HealthCondition c;
    c.healthy = t.healthy;
    c.reason = t.outcome.reason;
    c.message = t.outcome.message;
    c.last_probe_time = rfc3339(t.at);
    c.last_transition_time = c.last_probe_time;
    LOG_NOTICE("workload %s: %s", t.healthy ? "healthy" : "unhealthy", t.outcome.message.c_str());
    health_->report(c, now);
  }
  health_->tick(now);
}

void Daemon::reloadSettings(Clock::time_point now) {
  notifier_.reloading();
  if (jwks_) jwks_->refreshNow();
  setStatus("reloading " + options_.config_path);
  auto load = loadSettings(options_.config_path, readHostFacts());
  for (const auto& p : load.problems)
    LOG_ERROR("%s", p.describe().c_str());
  if (!load.settings) {
    LOG_ERROR("%s: not reloaded; the previous settings stay in force",
              options_.config_path.c_str());
  } else {
    AgentSettings next = std::move(*load.settings);
    bool restart_needed = next.proxy.binary != settings_.proxy.binary ||
                          next.proxy.user != settings_.proxy.user ||
                          next.proxy.admin_port != settings_.proxy.admin_port ||
                          next.proxy.concurrency != settings_.proxy.concurrency ||
                          next.proxy.snapshot != settings_.proxy.snapshot ||
                          next.workload.address != settings_.workload.address ||
                          next.dns.listen_port != settings_.dns.listen_port;
    if (restart_needed)
      LOG_WARN(
          "%s: changes to [proxy], workload.address or dns.listen_port take effect when "
          "the agent restarts",
          next.file.c_str());
    if (next.config.type != settings_.config.type ||
        next.config.api_server != settings_.config.api_server)
      LOG_WARN(
          "%s: a change of config.source or config.api_server takes effect when the agent "
          "restarts",
          next.file.c_str());
    next.config.type = settings_.config.type;
    bool new_dir = !kube_ && next.config.directory != settings_.config.directory;
    auto capture_before = settings_.capture;
    settings_.config = next.config;
    settings_.dns.upstreams = next.dns.upstreams;
    settings_.dns.search_domains = next.dns.search_domains;
    settings_.capture = next.capture;
    if (new_dir) {
      auto watch = source::DirectoryWatch::create(settings_.config.directory, options_.debounce,
                                                  options_.debounce * 5);
      if (watch)
        watch_ = std::move(*watch);
      else
        LOG_ERROR("%s", watch.error().detail.c_str());
    }
    // The upstreams may have changed: a new channel, and its questions asked again.
    resolver_.reset();
    resolved_->forgetInFlight(now);
    if (settings_.capture != capture_before) {
      auto capture = CaptureControl::create(settings_, proxy_user_.uid, proxy_user_.gid);
      if (!capture) {
        LOG_ERROR("%s; the capture in place stays", capture.error().detail.c_str());
      } else if (Status st = (*capture)->apply(); !st) {
        LOG_ERROR("capture: %s", st.error().detail.c_str());
      } else {
        if (capture_->enabled() && !(*capture)->enabled()) (void)capture_->remove();
        capture_ = std::move(*capture);
      }
    }
    refreshMesh(now);
  }
  notifier_.ready();
  setStatus("serving snapshot " + snapshot_.version);
}

void Daemon::onSignal(int signo, Clock::time_point now) {
  switch (signo) {
    case SIGCHLD:
      if (proxy_) proxy_->reap(now);
      break;
    case SIGHUP:
      reloadSettings(now);
      break;
    default:
      LOG_NOTICE("%s received: stopping", strsignal(signo));
      stopping_ = true;
  }
}

void Daemon::loop() {
  while (!stopping_) {
    auto now = Clock::now();
    last_turn_ms_ = nowMs();
    std::vector<pollfd> fds{{signals_.get(), POLLIN, 0},
                            {kube_ ? kube_->fd() : watch_->fd(), POLLIN, 0}};
    auto status_fds = status_server_->pollFds();
    std::vector<pollfd> resolver_fds = resolver_ ? resolver_->pollFds() : std::vector<pollfd>{};
    fds.insert(fds.end(), status_fds.begin(), status_fds.end());
    fds.insert(fds.end(), resolver_fds.begin(), resolver_fds.end());
    if (jwks_) fds.push_back({jwks_->pollFd(), POLLIN, 0});

    auto wake = now + kTurn;
    auto earlier = [&](std::optional<Clock::time_point> t) {
      if (t) wake = std::min(wake, *t);
    };
    earlier(kube_ ? kube_->nextDeadline() : watch_->nextDeadline());
    earlier(resolved_->nextDue());
    earlier(proxy_->nextRestart());
    if (registry_ && !registered_) earlier(register_retry_at_);
    if (health_) earlier(health_->nextAttempt());
    if (resolver_)
      if (auto t = resolver_->nextTimeout()) earlier(now + *t);
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(timeout, 0)));
    if (n < 0 && errno != EINTR) {
      LOG_ERROR("poll: %s", std::strerror(errno));
      return;
    }
    now = Clock::now();

    if (fds[0].revents) {
      signalfd_siginfo si;
      while (::read(signals_.get(), &si, sizeof si) == sizeof si)
        onSignal(static_cast<int>(si.ssi_signo), now);
    }
    if (fds[1].revents) kube_ ? kube_->onReadable(now) : watch_->onReadable(now);
    status_server_->process(std::span(fds).subspan(2, status_fds.size()), now);
    if (resolver_ && !resolver_fds.empty())
      resolver_->process(std::span(fds).subspan(2 + status_fds.size(), resolver_fds.size()));
    else if (resolver_)
      resolver_->process({});

    if (jwks_ && fds.back().fd == jwks_->pollFd() && fds.back().revents) {
      jwks_->onReadable();
      if (jwks_->generation() != jwks_generation_) {
        jwks_generation_ = jwks_->generation();
        recompile("jwksUri keys changed");
      }
    }
    if (kube_ ? kube_->due(now) : watch_->due(now)) refreshMesh(now);
    startResolving(now);
    if (recompile_pending_) recompile("DNS answer changed");
    proxy_->reap(now);
    proxy_->tick(now);
    if (registry_ && !registered_ && now >= register_retry_at_) registerEntry(now);
    reportHealth(now);
    updateMetrics(now);
  }
}

void Daemon::updateMetrics(Clock::time_point now) {
  if (proxy_) {
    metrics_.proxy_restarts = proxy_->restarts();
    metrics_.proxy_up = proxy_->running();
    metrics_.proxy_crash_looping = proxy_->crashLooping(now);
  }
  metrics_.ready = ready_;
  if (resolved_) {
    metrics_.dns_lookup_failures = resolved_->failures();
    metrics_.dns_answer_changes = resolved_->changes();
  }
}

void Daemon::shutDown() {
  notifier_.stopping();
  watchdog_.reset();
  prober_.reset();
  if (registry_ && registered_) {
    setStatus("stopping: marking " + entry_.name + " disconnected");
    if (Status st =
            registry_->disconnect(entry_.name_space, entry_.name, std::chrono::system_clock::now());
        !st)
      LOG_ERROR("registry: %s", st.error().detail.c_str());
  }
  if (proxy_) {
    setStatus("stopping: draining the proxy");
    LOG_NOTICE("proxy %s", proxy_->stop().c_str());
  }
  dns_proxy_.reset();
  if (capture_) {
    setStatus("stopping: removing capture");
    if (Status st = capture_->remove(); !st)
      LOG_ERROR("capture: %s (remove it with meshnode-iptables cleanup)",
                st.error().detail.c_str());
  }
  setStatus("stopped");
}

status::StatusResponse Daemon::handleStatus(const std::string& path) {
  status::StatusResponse r;
  if (path == "/healthz/ready") {
    std::string why;
    if (!ready_) {
      why = "starting";
    } else if (!proxy_ || !proxy_->running()) {
      why = "proxy not running" + (proxy_ ? " (" + proxy_->lastExit() + ")" : "");
    } else {
      auto reply = status::httpGet("127.0.0.1", settings_.proxy.admin_port, "/ready",
                                   std::chrono::milliseconds(300));
      if (!reply || reply->status != 200)
        why = "proxy not ready: " +
              (reply ? "HTTP " + std::to_string(reply->status) : reply.error().detail);
    }
    r.status = why.empty() ? 200 : 503;
    r.body = why.empty() ? "ready\n" : why + "\n";
  } else if (path == "/stats/prometheus") {
    updateMetrics(Clock::now());
    r.content_type = "text/plain; version=0.0.4";
    r.body = status::renderMetrics(metrics_);
    auto reply = status::httpGet("127.0.0.1", settings_.proxy.admin_port, "/stats/prometheus",
                                 std::chrono::milliseconds(500));
    if (reply && reply->status == 200)
      r.body += reply->body;
    else
      r.body += "# proxy metrics unavailable: " +
                (reply ? "HTTP " + std::to_string(reply->status) : reply.error().detail) + "\n";
  } else if (path == "/debug/config_dump") {
    r.content_type = "application/json";
    r.body = snapshot_.json;
  } else if (path == "/debug/registry") {
    r.content_type = "application/json";
    nlohmann::json doc = nlohmann::json::object();
    doc["self"] = registered_ ? toJson(entry_) : nlohmann::json(nullptr);
    doc["registered"] = registered_;
    doc["entries"] = nlohmann::json::array();
    if (registry_) {
      if (auto list = registry_->list()) {
        for (const auto& e : *list)
          doc["entries"].push_back(toJson(e));
      } else {
        doc["error"] = list.error().detail;
      }
    }
    r.body = doc.dump(2) + "\n";
  } else {
    r.status = 404;
    r.body = "endpoints: /healthz/ready /stats/prometheus /debug/config_dump /debug/registry\n";
  }
  return r;
}

}  // namespace meshnode::agent::daemon
