#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/dns/dns_proxy.h"
#include "common/log.h"
#include "tests/integration/agent_tools/tools.h"

namespace meshnode::agent::testtool {

void blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void waitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
}

// dns --listen ADDR --port N --upstream ADDR[:PORT]... --host NAME[=ADDR,ADDR]...
//     --search DOMAIN... --zone ZONE...
int runDns(int argc, char** argv) {
  dns::DnsProxyOptions options;
  std::vector<dns::MeshHost> hosts;
  std::vector<std::string> search, zones;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--listen") {
      options.listen_address = value;
    } else if (flag == "--port") {
      options.listen_port = static_cast<uint16_t>(std::stoi(value));
    } else if (flag == "--upstream") {
      options.upstreams.push_back(value);
    } else if (flag == "--search") {
      search.push_back(value);
    } else if (flag == "--zone") {
      zones.push_back(value);
    } else if (flag == "--host") {
      dns::MeshHost host;
      auto eq = value.find('=');
      host.name = value.substr(0, eq);
      if (eq != std::string::npos) {
        std::string rest = value.substr(eq + 1);
        for (size_t start = 0; start <= rest.size();) {
          size_t comma = rest.find(',', start);
          if (comma == std::string::npos) comma = rest.size();
          if (comma > start) host.addresses.push_back(rest.substr(start, comma - start));
          start = comma + 1;
        }
      }
      hosts.push_back(host);
    } else {
      std::fprintf(stderr, "dns: unknown flag %s\n", flag.c_str());
      return 64;
    }
  }
  auto table = dns::NameTable::build(hosts, search, zones);
  if (!table.ok()) {
    std::fprintf(stderr, "dns: %s\n", table.error().describe().c_str());
    return 78;
  }
  blockStopSignals();
  auto proxy =
      dns::DnsProxy::start(options, std::make_shared<dns::NameTable>(std::move(table).value()));
  if (!proxy.ok()) {
    std::fprintf(stderr, "dns: %s\n", proxy.error().describe().c_str());
    return 71;
  }
  std::printf("listening %s:%u\n", options.listen_address.c_str(), (*proxy)->port());
  std::fflush(stdout);
  waitForStopSignal();
  auto stats = (*proxy)->stats();
  std::printf(
      "queries=%lu mesh=%lu forwarded=%lu cache_hits=%lu servfail=%lu\n",
      static_cast<unsigned long>(stats.queries), static_cast<unsigned long>(stats.mesh_answers),
      static_cast<unsigned long>(stats.forwarded), static_cast<unsigned long>(stats.cache_hits),
      static_cast<unsigned long>(stats.servfail));
  return 0;
}

}  // namespace meshnode::agent::testtool
