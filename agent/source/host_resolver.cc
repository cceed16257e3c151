#include "agent/source/host_resolver.h"

#include <algorithm>
#include <limits>
#include <mutex>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "agent/dns/upstream.h"

namespace meshnode::agent::source {

Result<std::unique_ptr<HostResolver>> HostResolver::create(const std::vector<std::string>& servers,
                                                           std::chrono::milliseconds try_timeout,
                                                           int tries) {
  static std::once_flag init_once;
  static int init_status = ARES_SUCCESS;
  std::call_once(init_once, [] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_status != ARES_SUCCESS) return dns::aresError(init_status, "c-ares library init");
  if (servers.empty())
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "dns.upstreams: no resolver for ServiceEntry hosts (set dns.upstreams or a "
                     "nameserver in /etc/resolv.conf)");
  std::unique_ptr<HostResolver> r(new HostResolver());
  ares_options options{};
  options.timeout = static_cast<int>(try_timeout.count());
  options.tries = tries;
  options.flags = ARES_FLAG_NOSEARCH;
  char lookups[] = "b";
  options.lookups = lookups;
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS;
  if (int rc = ares_init_options(&r->channel_, &options, mask); rc != ARES_SUCCESS)
    return dns::aresError(rc, "c-ares channel");
  std::string csv;
  for (const auto& s : servers)
    csv += (csv.empty() ? "" : ",") + s;
  if (int rc = ares_set_servers_ports_csv(r->channel_, csv.c_str()); rc != ARES_SUCCESS)
    return dns::aresError(rc, "dns.upstreams \"" + csv + "\"");
  return r;
}

HostResolver::~HostResolver() {
  destroying_ = true;
  if (channel_) ares_destroy(channel_);
}

void HostResolver::resolve(const std::string& host, Callback callback) {
  uint64_t token = next_token_++;
  auto entry = std::make_unique<InFlight>(InFlight{this, token, host, std::move(callback)});
  InFlight* arg = entry.get();
  in_flight_.emplace(token, std::move(entry));
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(channel_, arg->host.c_str(), nullptr, &hints, &HostResolver::onAnswer, arg);
}

void HostResolver::onAnswer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* entry = static_cast<InFlight*>(arg);
  HostResolver* self = entry->owner;
  if (self->destroying_) {
    if (result) ares_freeaddrinfo(result);
    return;
  }
  auto it = self->in_flight_.find(entry->token);
  if (it == self->in_flight_.end()) {
    if (result) ares_freeaddrinfo(result);
    return;
  }
  Callback callback = std::move(it->second->callback);
  std::string host = std::move(it->second->host);
  self->in_flight_.erase(it);
  if (status != ARES_SUCCESS || !result) {
    if (result) ares_freeaddrinfo(result);
    callback(dns::aresError(status, "resolve " + host));
    return;
  }
  Answer answer;
  int ttl = std::numeric_limits<int>::max();
  for (ares_addrinfo_node* n = result->nodes; n; n = n->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (n->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(n->ai_addr)->sin_addr, text, sizeof text);
    else if (n->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(n->ai_addr)->sin6_addr, text,
                sizeof text);
    else
      continue;
    answer.addresses.emplace_back(text);
    ttl = std::min(ttl, n->ai_ttl);
  }
  ares_freeaddrinfo(result);
  std::sort(answer.addresses.begin(), answer.addresses.end());
  answer.addresses.erase(std::unique(answer.addresses.begin(), answer.addresses.end()),
                         answer.addresses.end());
  if (answer.addresses.empty()) {
    callback(
        makeError(ErrorCode::kNotFound, Side::kUpstream, "resolve " + host + ": no address", true));
    return;
  }
  answer.ttl = std::chrono::seconds(std::max(ttl, 0));
  callback(std::move(answer));
}

std::vector<pollfd> HostResolver::pollFds() const {
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
  std::vector<pollfd> fds;
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    short events = 0;
    if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
    if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
    if (events) fds.push_back(pollfd{socks[i], events, 0});
  }
  return fds;
}

void HostResolver::process(std::span<const pollfd> fds) {
  for (const pollfd& p : fds) {
    if (!p.revents) continue;
    bool readable = p.revents & (POLLIN | POLLERR | POLLHUP);
    bool writable = p.revents & POLLOUT;
    ares_process_fd(channel_, readable ? p.fd : ARES_SOCKET_BAD, writable ? p.fd : ARES_SOCKET_BAD);
  }
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

std::optional<std::chrono::milliseconds> HostResolver::nextTimeout() const {
  timeval tv{};
  timeval* t = ares_timeout(channel_, nullptr, &tv);
  if (!t) return std::nullopt;
  return std::chrono::milliseconds(t->tv_sec * 1000 + t->tv_usec / 1000 + 1);
}

}  // namespace meshnode::agent::source
