#include "agent/dns/dns_proxy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "agent/dns/cache.h"
#include "agent/dns/message.h"
#include "agent/dns/upstream.h"
#include "common/log.h"

namespace meshnode::agent::dns {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kTcpReadLimit = 2 + kMaxMessage;
// Past this much unsent output a TCP client stops being read; past the hard limit it is cut.
constexpr size_t kTcpOutputPause = 64 * 1024;
constexpr size_t kTcpOutputLimit = 1024 * 1024;
constexpr auto kTcpIdleTimeout = std::chrono::seconds(10);

Error systemError(const std::string& what) {
  return makeError(ErrorCode::kIo, Side::kSystem, what + ": " + std::strerror(errno));
}

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

Result<Endpoint> endpointFor(const std::string& address, uint16_t port) {
  Endpoint ep;
  sockaddr_in sin{};
  sockaddr_in6 sin6{};
  if (::inet_pton(AF_INET, address.c_str(), &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&ep.addr, &sin, sizeof(sin));
    ep.len = sizeof(sin);
  } else if (::inet_pton(AF_INET6, address.c_str(), &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&ep.addr, &sin6, sizeof(sin6));
    ep.len = sizeof(sin6);
  } else {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "DNS listen address \"" + address + "\" is not an IP address");
  }
  return ep;
}

// "127.0.0.1:40000" or "[::1]:40000", for logs.
std::string describe(const Endpoint& ep) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ep.addr.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &ep.addr, sizeof(sin));
    ::inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(sin.sin_port));
  }
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ep.addr, sizeof(sin6));
  ::inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(sin6.sin6_port));
}

uint16_t portOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &ss, sizeof(sin));
    return ntohs(sin.sin_port);
  }
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ss, sizeof(sin6));
  return ntohs(sin6.sin6_port);
}

Result<UniqueFd> bindSocket(const Endpoint& ep, uint16_t port, int type) {
  UniqueFd fd(::socket(ep.addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return systemError("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    return systemError(std::string("bind DNS ") + (type == SOCK_STREAM ? "TCP" : "UDP") + " port " +
                       std::to_string(port));
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0) return systemError("listen");
  return fd;
}

}  // namespace

// Everything that runs on the proxy thread.
class DnsProxy::Loop {
 public:
  Loop(DnsProxy& owner, DnsProxyOptions options, UniqueFd udp, UniqueFd tcp,
       std::unique_ptr<Upstream> upstream)
      : owner_(owner),
        options_(std::move(options)),
        udp_(std::move(udp)),
        tcp_(std::move(tcp)),
        upstream_(std::move(upstream)),
        cache_(options_.ttl_floor, options_.ttl_ceiling) {}

  void run();

 private:
  // Where a reply goes: a UDP peer, or a TCP connection by id (it may be gone by then).
  struct ReplyTo {
    bool tcp = false;
    Endpoint peer;
    uint64_t connection = 0;
  };

  struct Pending {
    ReplyTo to;
    Query query;
    std::vector<uint8_t> wire;
    Clock::time_point deadline;
  };

  struct Connection {
    UniqueFd fd;
    Endpoint peer;
    std::vector<uint8_t> in;
    std::vector<uint8_t> out;
    Clock::time_point last_active;
    size_t waiting = 0;    // queries forwarded and not yet answered
    bool eof = false;      // the client sent all it will; answer what it asked, then close
    bool closing = false;  // set where erasing would pull the connection from under a caller
  };

  void readUdp();
  void acceptTcp();
  // False when the connection should be closed.
  bool readTcp(uint64_t id, Connection& c);
  bool flushTcp(Connection& c);
  void handle(std::span<const uint8_t> wire, const ReplyTo& to);
  void answerMesh(const Query& q, std::span<const uint8_t> wire, const ReplyTo& to,
                  const NameTable::Lookup& found);
  void forward(Query q, std::span<const uint8_t> wire, const ReplyTo& to);
  void onUpstream(uint64_t token, Result<std::vector<uint8_t>> answer);
  void expirePending(Clock::time_point now);
  void reply(const ReplyTo& to, const Query& q, std::span<const uint8_t> wire,
             std::vector<uint8_t> message);
  void servfail(const ReplyTo& to, const Query& q, std::span<const uint8_t> wire);
  void send(const ReplyTo& to, std::vector<uint8_t> message);

  DnsProxy& owner_;
  DnsProxyOptions options_;
  UniqueFd udp_;
  UniqueFd tcp_;
  std::unique_ptr<Upstream> upstream_;
  ResponseCache cache_;
  std::map<uint64_t, Connection> connections_;
  uint64_t next_connection_ = 1;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_pending_ = 1;
};

void DnsProxy::Loop::run() {
  std::vector<pollfd> fds;
  std::vector<uint64_t> connection_ids;
  for (;;) {
    fds.clear();
    connection_ids.clear();
    fds.push_back(pollfd{owner_.wake_.get(), POLLIN, 0});
    fds.push_back(pollfd{udp_.get(), POLLIN, 0});
    fds.push_back(pollfd{tcp_.get(), POLLIN, 0});
    for (auto& [id, c] : connections_) {
      short events = !c.eof && c.out.size() < kTcpOutputPause ? POLLIN : 0;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back(pollfd{c.fd.get(), events, 0});
      connection_ids.push_back(id);
    }
    size_t ares_begin = fds.size();
    for (const pollfd& p : upstream_->pollFds())
      fds.push_back(p);

    Clock::time_point now = Clock::now();
    auto wait = std::chrono::milliseconds(1000);
    if (auto t = upstream_->nextTimeout()) wait = std::min(wait, *t);
    for (const auto& [token, p] : pending_) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(p.deadline - now);
      wait = std::min(wait, std::max(left, std::chrono::milliseconds(0)));
    }
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) {
      LOG_ERROR("dns: poll: %s", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;  // stop() was called
    if (fds[1].revents != 0) readUdp();
    if (fds[2].revents != 0) acceptTcp();
    for (size_t i = 0; i < connection_ids.size(); ++i) {
      const pollfd& p = fds[3 + i];
      auto it = connections_.find(connection_ids[i]);
      if (it == connections_.end()) continue;
      bool keep = true;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) keep = readTcp(it->first, it->second);
      if (keep && (p.revents & POLLOUT)) keep = flushTcp(it->second);
      if (!keep) it->second.closing = true;
    }
    upstream_->process(std::span<const pollfd>(fds).subspan(ares_begin));

    now = Clock::now();
    expirePending(now);
    std::erase_if(connections_, [&](const auto& e) {
      const Connection& c = e.second;
      bool done = c.waiting == 0 && c.out.empty();
      return c.closing || (c.eof && done) ||
             (c.waiting == 0 && c.out.empty() && now - c.last_active > kTcpIdleTimeout);
    });
  }
}

void DnsProxy::Loop::readUdp() {
  // A bounded number per wakeup, so TCP clients and upstream answers are not starved.
  for (int i = 0; i < 64; ++i) {
    uint8_t buf[kMaxMessage];
    ReplyTo to;
    to.peer.len = sizeof(to.peer.addr);
    ssize_t n = ::recvfrom(udp_.get(), buf, sizeof(buf), 0,
                           reinterpret_cast<sockaddr*>(&to.peer.addr), &to.peer.len);
    if (n < 0) return;
    handle(std::span<const uint8_t>(buf, static_cast<size_t>(n)), to);
  }
}

void DnsProxy::Loop::acceptTcp() {
  for (;;) {
    Endpoint peer;
    peer.len = sizeof(peer.addr);
    UniqueFd fd(::accept4(tcp_.get(), reinterpret_cast<sockaddr*>(&peer.addr), &peer.len,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) return;
    if (connections_.size() >= options_.max_tcp_connections) {
      LOG_WARN("dns: %zu TCP clients already, refusing another", connections_.size());
      continue;
    }
    Connection c;
    c.fd = std::move(fd);
    c.peer = peer;
    c.last_active = Clock::now();
    connections_.emplace(next_connection_++, std::move(c));
  }
}

bool DnsProxy::Loop::readTcp(uint64_t id, Connection& c) {
  size_t room = kTcpReadLimit - c.in.size();
  size_t old = c.in.size();
  c.in.resize(old + room);
  ssize_t n = ::recv(c.fd.get(), c.in.data() + old, room, 0);
  if (n <= 0) {
    c.in.resize(old);
    if (n == 0) c.eof = true;
    return n == 0 || errno == EAGAIN || errno == EINTR;
  }
  c.in.resize(old + static_cast<size_t>(n));
  c.last_active = Clock::now();
  size_t off = 0;
  while (!c.closing && c.in.size() - off >= 2) {
    size_t len = (static_cast<size_t>(c.in[off]) << 8) | c.in[off + 1];
    if (len == 0) return false;
    if (c.in.size() - off - 2 < len) break;
    ReplyTo to;
    to.tcp = true;
    to.connection = id;
    to.peer = c.peer;
    handle(std::span<const uint8_t>(c.in.data() + off + 2, len), to);
    off += 2 + len;
  }
  c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(off));
  return true;
}

bool DnsProxy::Loop::flushTcp(Connection& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.out.erase(c.out.begin(), c.out.begin() + n);
    c.last_active = Clock::now();
  }
  return true;
}

void DnsProxy::Loop::handle(std::span<const uint8_t> wire, const ReplyTo& to) {
  owner_.counters_.queries++;
  auto query = parseQuery(wire);
  if (!query.ok()) {
    owner_.counters_.malformed++;
    // Debug level: anyone on the host can send junk, and the log must not be theirs to fill.
    LOG_DEBUG("dns: from %s over %s: %s", describe(to.peer).c_str(), to.tcp ? "TCP" : "UDP",
              query.error().detail.c_str());
    auto header = parseHeader(wire);
    // Never answer something that claims to be a response: that is how reflection loops start.
    if (header.ok() && !header->response()) {
      send(to, buildHeaderOnlyReply(header->id, header->flags, kRcodeFormErr));
    }
    return;
  }
  const Query& q = *query;
  if (q.header.opcode() != 0) {
    send(to, buildReply(q, wire, kRcodeNotImp, false, {}));
    return;
  }
  if (q.question.klass == kClassIn) {
    NameTable::Lookup found = owner_.table()->lookup(q.question.name);
    if (found.match != NameTable::Match::kNotMesh) {
      answerMesh(q, wire, to, found);
      return;
    }
  }
  if (auto cached = cache_.find(q.question, q.header.id, Clock::now())) {
    owner_.counters_.cache_hits++;
    // The cached question was spelled by whoever asked first; echo this client's spelling,
    // which resolvers using 0x20 case randomization check. The question is never compressed,
    // so it has the same length in both.
    if (cached->size() >= q.question_end) {
      std::copy(wire.begin() + kHeaderSize, wire.begin() + q.question_end,
                cached->begin() + kHeaderSize);
    }
    reply(to, q, wire, std::move(*cached));
    return;
  }
  forward(std::move(query).value(), wire, to);
}

void DnsProxy::Loop::answerMesh(const Query& q, std::span<const uint8_t> wire, const ReplyTo& to,
                                const NameTable::Lookup& found) {
  owner_.counters_.mesh_answers++;
  if (found.match == NameTable::Match::kNxDomain) {
    send(to, buildReply(q, wire, kRcodeNxDomain, true, {}));
    return;
  }
  // A mesh name asked for another type (MX, TXT, AAAA of a v4-only host) exists but has no
  // such data: NOERROR with no answers, never NXDOMAIN, or the stub would give up on the name.
  std::vector<Record> answers;
  if (q.question.type == kTypeA) {
    for (const auto& a : found.addresses->v4) {
      answers.push_back(Record{kTypeA, options_.mesh_ttl, {a.begin(), a.end()}});
    }
  } else if (q.question.type == kTypeAaaa) {
    for (const auto& a : found.addresses->v6) {
      answers.push_back(Record{kTypeAaaa, options_.mesh_ttl, {a.begin(), a.end()}});
    }
  }
  reply(to, q, wire, buildReply(q, wire, kRcodeNoError, true, answers));
}

void DnsProxy::Loop::forward(Query q, std::span<const uint8_t> wire, const ReplyTo& to) {
  if (pending_.size() >= options_.max_pending) {
    LOG_WARN("dns: %zu queries already waiting on upstreams", pending_.size());
    servfail(to, q, wire);
    return;
  }
  owner_.counters_.forwarded++;
  uint64_t token = next_pending_++;
  Pending p{to, std::move(q), std::vector<uint8_t>(wire.begin(), wire.end()),
            Clock::now() + options_.deadline};
  if (to.tcp) {
    if (auto c = connections_.find(to.connection); c != connections_.end()) c->second.waiting++;
  }
  pending_.emplace(token, std::move(p));
  upstream_->send(wire, [this, token](Result<std::vector<uint8_t>> answer) {
    onUpstream(token, std::move(answer));
  });
}

void DnsProxy::Loop::onUpstream(uint64_t token, Result<std::vector<uint8_t>> answer) {
  auto it = pending_.find(token);
  // Past its deadline the client has had its SERVFAIL; a late answer still fills the cache.
  if (it == pending_.end()) {
    if (answer.ok()) {
      if (auto info = parseResponse(*answer); info.ok()) {
        cache_.store(info->question, *answer, Clock::now());
      }
    }
    return;
  }
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.to.tcp) {
    if (auto c = connections_.find(p.to.connection); c != connections_.end()) c->second.waiting--;
  }
  if (!answer.ok()) {
    LOG_DEBUG("dns: %s for %s", answer.error().describe().c_str(), p.query.question.name.c_str());
    servfail(p.to, p.query, p.wire);
    return;
  }
  std::vector<uint8_t> message = std::move(answer).value();
  if (message.size() < kHeaderSize) {
    servfail(p.to, p.query, p.wire);
    return;
  }
  cache_.store(p.query.question, message, Clock::now());
  writeU16(message, 0, p.query.header.id);
  reply(p.to, p.query, p.wire, std::move(message));
}

void DnsProxy::Loop::expirePending(Clock::time_point now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    Pending& p = it->second;
    if (p.to.tcp) {
      if (auto c = connections_.find(p.to.connection); c != connections_.end()) c->second.waiting--;
    }
    servfail(p.to, p.query, p.wire);
    it = pending_.erase(it);
  }
}

void DnsProxy::Loop::reply(const ReplyTo& to, const Query& q, std::span<const uint8_t> wire,
                           std::vector<uint8_t> message) {
  if (!to.tcp && message.size() > q.udp_limit) message = truncateReply(q, wire, message);
  send(to, std::move(message));
}

void DnsProxy::Loop::servfail(const ReplyTo& to, const Query& q, std::span<const uint8_t> wire) {
  owner_.counters_.servfail++;
  send(to, buildReply(q, wire, kRcodeServFail, false, {}));
}

void DnsProxy::Loop::send(const ReplyTo& to, std::vector<uint8_t> message) {
  if (!to.tcp) {
    ::sendto(udp_.get(), message.data(), message.size(), 0,
             reinterpret_cast<const sockaddr*>(&to.peer.addr), to.peer.len);
    return;
  }
  auto it = connections_.find(to.connection);
  if (it == connections_.end() || it->second.closing) return;
  Connection& c = it->second;
  if (c.out.size() + message.size() + 2 > kTcpOutputLimit) {
    LOG_WARN("dns: TCP client does not read its answers; closing it");
    c.closing = true;
    return;
  }
  c.out.push_back(static_cast<uint8_t>(message.size() >> 8));
  c.out.push_back(static_cast<uint8_t>(message.size()));
  c.out.insert(c.out.end(), message.begin(), message.end());
  if (!flushTcp(c)) c.closing = true;
}

Result<std::unique_ptr<DnsProxy>> DnsProxy::start(DnsProxyOptions options,
                                                  std::shared_ptr<const NameTable> table) {
  auto ep = endpointFor(options.listen_address, options.listen_port);
  if (!ep.ok()) return std::move(ep).takeError();
  // UDP and TCP share one port. With port 0 the kernel picks the UDP one, and TCP may find it
  // taken; another pick is then tried.
  std::optional<Result<UniqueFd>> udp, tcp;
  uint16_t port = 0;
  for (int attempt = 0; attempt < (options.listen_port == 0 ? 20 : 1); ++attempt) {
    udp = bindSocket(*ep, options.listen_port, SOCK_DGRAM);
    if (!udp->ok()) return std::move(*udp).takeError();
    port = portOf(udp->value().get());
    auto tcp_ep = endpointFor(options.listen_address, port);
    tcp = bindSocket(*tcp_ep, port, SOCK_STREAM);
    if (tcp->ok()) break;
  }
  if (!tcp->ok()) return std::move(*tcp).takeError();
  auto upstream =
      Upstream::create(options.upstreams, options.upstream_try_timeout, options.upstream_tries);
  if (!upstream.ok()) return std::move(upstream).takeError();

  std::unique_ptr<DnsProxy> proxy(new DnsProxy());
  proxy->port_ = port;
  proxy->table_ = std::move(table);
  proxy->wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!proxy->wake_.valid()) return systemError("eventfd");
  proxy->loop_ = std::make_unique<Loop>(*proxy, std::move(options), std::move(*udp).value(),
                                        std::move(*tcp).value(), std::move(upstream).value());
  proxy->thread_ = std::thread([p = proxy.get()] { p->loop_->run(); });
  return proxy;
}

DnsProxy::~DnsProxy() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof(one));
    thread_.join();
  }
}

void DnsProxy::setTable(std::shared_ptr<const NameTable> table) {
  std::lock_guard lock(mutex_);
  table_ = std::move(table);
}

std::shared_ptr<const NameTable> DnsProxy::table() const {
  std::lock_guard lock(mutex_);
  return table_;
}

DnsProxyStats DnsProxy::stats() const {
  return DnsProxyStats{counters_.queries.load(),   counters_.mesh_answers.load(),
                       counters_.forwarded.load(), counters_.cache_hits.load(),
                       counters_.servfail.load(),  counters_.malformed.load()};
}

}  // namespace meshnode::agent::dns
