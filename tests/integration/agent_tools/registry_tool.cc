#include <csignal>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>

#include "agent/health/prober.h"
#include "agent/registry/file_registry.h"
#include "agent/registry/health_reporter.h"
#include "agent/registry/kube_registry.h"
#include "tests/integration/agent_tools/tools.h"

namespace meshnode::agent::testtool {
namespace {

std::mutex g_print_mutex;

void print(const char* kind, const WorkloadEntry& e) {
  std::lock_guard lock(g_print_mutex);
  std::printf("%s %s/%s address=%s healthy=%s%s\n", kind, e.name_space.c_str(), e.name.c_str(),
              e.address.c_str(), !e.health ? "unknown" : (e.health->healthy ? "true" : "false"),
              e.disconnected() ? " disconnected" : "");
  std::fflush(stdout);
}

}  // namespace

// registry (--dir DIR | --kubernetes URL --token-file F --ca-file F) --group G --namespace NS
//          --address ADDR [--grace-ms N]
//          [--http PORT[/path] | --tcp PORT | --exec CMD] [--period S] [--failure-threshold N]
// Registers this "host", probes it, keeps its Healthy condition written, prints every entry
// event it sees in DIR, and on SIGTERM marks the entry disconnected.
int runRegistry(int argc, char** argv) {
  std::string dir, group, name_space, address, api_server, token_file, ca_file;
  long grace_ms = 10000;
  // Flags may come in any order; the timing ones apply to whichever action is given.
  bool has_probe = false;
  Probe p;
  p.period_seconds = 1;
  p.failure_threshold = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--dir") {
      dir = value;
    } else if (flag == "--kubernetes") {
      api_server = value;
    } else if (flag == "--token-file") {
      token_file = value;
    } else if (flag == "--ca-file") {
      ca_file = value;
    } else if (flag == "--group") {
      group = value;
    } else if (flag == "--namespace") {
      name_space = value;
    } else if (flag == "--address") {
      address = value;
    } else if (flag == "--grace-ms") {
      grace_ms = std::stol(value);
    } else if (flag == "--period") {
      p.period_seconds = static_cast<uint32_t>(std::stoul(value));
    } else if (flag == "--failure-threshold") {
      p.failure_threshold = static_cast<uint32_t>(std::stoul(value));
    } else if (flag == "--http") {
      HttpGetAction a;
      auto slash = value.find('/');
      a.port = static_cast<uint16_t>(std::stoi(value.substr(0, slash)));
      if (slash != std::string::npos) a.path = value.substr(slash);
      p.action = a;
      has_probe = true;
    } else if (flag == "--tcp") {
      p.action = TcpSocketAction{"", static_cast<uint16_t>(std::stoi(value))};
      has_probe = true;
    } else if (flag == "--exec") {
      p.action = ExecAction{{"sh", "-c", value}};
      has_probe = true;
    } else {
      std::fprintf(stderr, "registry: unknown flag %s\n", flag.c_str());
      return 64;
    }
  }
  blockStopSignals();

  std::unique_ptr<Registry> chosen;
  if (api_server.empty()) {
    chosen = std::make_unique<FileRegistry>(
        FileRegistryOptions{dir, std::chrono::milliseconds(grace_ms)});
  } else {
    KubeRegistryOptions options;
    options.api_server = api_server;
    options.token_file = token_file;
    options.ca_file = ca_file;
    options.name_space = name_space;
    options.backoff_initial = std::chrono::milliseconds(200);
    auto kube = KubeRegistry::create(options);
    if (!kube.ok()) {
      std::fprintf(stderr, "registry: %s\n", kube.error().describe().c_str());
      return 78;
    }
    chosen = std::move(kube).value();
  }
  Registry& registry = *chosen;
  WorkloadTemplate tmpl;
  tmpl.group = group;
  tmpl.name_space = name_space;
  tmpl.labels = {{"app", group}};
  tmpl.ports = {{"http", 8080}};
  WorkloadEntry entry = makeEntry(tmpl, address, std::chrono::system_clock::now());
  if (Status s = registry.registerEntry(entry); !s) {
    std::fprintf(stderr, "registry: %s\n", s.error().describe().c_str());
    return 74;
  }
  auto watch = registry.watch([](const RegistryEvent& ev) {
    const char* kind = ev.kind == RegistryEvent::Kind::kAdded     ? "ADDED"
                       : ev.kind == RegistryEvent::Kind::kUpdated ? "UPDATED"
                                                                  : "REMOVED";
    print(kind, ev.entry);
  });
  if (!watch.ok()) {
    std::fprintf(stderr, "registry: %s\n", watch.error().describe().c_str());
    return 71;
  }

  // Transitions arrive on the prober's thread and are written from this one, as the agent's
  // main loop does.
  std::mutex mutex;
  std::deque<HealthTransition> transitions;
  std::unique_ptr<Prober> prober;
  if (has_probe) {
    prober = std::make_unique<Prober>(p, "127.0.0.1", [&](const HealthTransition& t) {
      std::lock_guard lock(mutex);
      transitions.push_back(t);
    });
  }
  HealthReporter reporter(registry, name_space, entry.name, {});
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  for (;;) {
    timespec tick{0, 100 * 1000 * 1000};
    if (sigtimedwait(&stop, nullptr, &tick) > 0) break;
    std::deque<HealthTransition> arrived;
    {
      std::lock_guard lock(mutex);
      arrived.swap(transitions);
    }
    for (const HealthTransition& t : arrived) {
      HealthCondition c;
      c.healthy = t.healthy;
      c.reason = t.outcome.reason;
      c.message = t.outcome.message;
      c.last_probe_time = rfc3339(t.at);
      c.last_transition_time = c.last_probe_time;
      reporter.report(c, HealthReporter::Clock::now());
    }
    reporter.tick(HealthReporter::Clock::now());
  }
  prober.reset();
  if (Status s = registry.disconnect(name_space, entry.name, std::chrono::system_clock::now());
      !s) {
    std::fprintf(stderr, "registry: %s\n", s.error().describe().c_str());
    return 74;
  }
  return 0;
}

}  // namespace meshnode::agent::testtool
