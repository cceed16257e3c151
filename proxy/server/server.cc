#include "proxy/server/server.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/unique_fd.h"
#include "proxy/snapshot/snapshot_json.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy {
namespace {

// Binds a listening socket with SO_REUSEPORT so each worker can own one for the same address.
Result<UniqueFd> bindListener(const Listener& l) {
  std::error_code ec;
  auto addr = asio::ip::make_address(l.address, ec);
  int family = addr.is_v6() ? AF_INET6 : AF_INET;
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  std::string where = "listener " + l.name + " " + l.address + ":" + std::to_string(l.port);
  if (!fd.valid())
    return makeError(ErrorCode::kIo, Side::kSystem, where + ": socket: " + std::strerror(errno));
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  asio::ip::tcp::endpoint ep(addr, l.port);
  if (::bind(fd.get(), ep.data(), static_cast<socklen_t>(ep.size())) != 0)
    return makeError(ErrorCode::kIo, Side::kSystem, where + ": bind: " + std::strerror(errno));
  if (::listen(fd.get(), 1024) != 0)
    return makeError(ErrorCode::kIo, Side::kSystem, where + ": listen: " + std::strerror(errno));
  return fd;
}

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      signals_(main_),
      drain_timer_(main_),
      trim_timer_(main_),
      identity_timer_(main_) {}

Server::~Server() {
  for (auto& w : workers_)
    w->stop();
  for (auto& w : workers_)
    w->join();
}

Status Server::start() {
  auto snap = loadSnapshotFile(options_.snapshot_path);
  if (!snap) return snap.error();
  int n = options_.concurrency > 0
              ? options_.concurrency
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<Worker>(i, store_));
  if (auto st = applySnapshot(*snap); !st) return st;
  for (auto& w : workers_)
    w->start();

  admin_ = std::make_unique<AdminServer>(
      main_, AdminHandlers{[this] { return ready_ && !draining_; },
                           [this] { return store_.get()->source_json; }});
  if (auto st = admin_->listen(options_.admin_address, options_.admin_port); !st) return st;

  signals_.add(SIGHUP);
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  waitSignal();
  scheduleTrim();
  pollIdentity();
  ready_ = true;
  LOG_NOTICE("serving snapshot %s with %d workers, admin on %s:%u", store_.get()->version.c_str(),
             n, options_.admin_address.c_str(), admin_->port());
  return {};
}

Status Server::applySnapshot(SnapshotPtr snap) {
  // Bind every new listener before anything changes, so a port in use refuses the snapshot.
  std::map<std::string, Listener> wanted;
  for (const auto& l : snap->listeners)
    wanted[listenerKey(l)] = l;
  std::map<std::string, std::vector<UniqueFd>> fresh;
  for (const auto& [key, l] : wanted) {
    if (listeners_.count(key)) continue;
    for (size_t i = 0; i < workers_.size(); ++i) {
      auto fd = bindListener(l);
      if (!fd) return fd.error();
      fresh[key].push_back(std::move(*fd));
    }
  }
  // Certificates are read before anything is published: a snapshot whose identity or cluster
  // certificates cannot be loaded is refused whole.
  if (auto st = tls_.apply(*snap); !st) return st;
  store_.set(snap);
  for (auto& [key, fds] : fresh)
    for (size_t i = 0; i < workers_.size(); ++i)
      workers_[i]->addListener(wanted[key], fds[i].release());
  for (const auto& [key, l] : listeners_) {
    if (wanted.count(key)) continue;
    for (auto& w : workers_)
      w->removeListener(key);
  }
  listeners_ = std::move(wanted);
  return {};
}

// glibc keeps the heap a burst of traffic grew (per-thread arenas); handing the free part back
// now and then keeps RSS following the connections in use rather than the busiest moment.
void Server::scheduleTrim() {
  trim_timer_.expires_after(std::chrono::seconds(10));
  trim_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    malloc_trim(0);
    scheduleTrim();
  });
}

void Server::waitSignal() {
  signals_.async_wait([this](std::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
    } else {
      beginDrain();
    }
    waitSignal();
  });
}

// Identity files are rotated in place by the agent (or cert-manager, or an operator); a stat
// per second notices it, and new handshakes use the new certificate.
void Server::pollIdentity() {
  tls_.poll();
  identity_timer_.expires_after(std::chrono::seconds(1));
  identity_timer_.async_wait([this](std::error_code ec) {
    if (!ec && !draining_) pollIdentity();
  });
}

void Server::reload() {
  auto snap = loadSnapshotFile(options_.snapshot_path);
  if (!snap) {
    bump(Stats::get().snapshot_reload_rejected);
    LOG_ERROR("snapshot rejected, still serving version %s: %s", store_.get()->version.c_str(),
              snap.error().detail.c_str());
    return;
  }
  if (auto st = applySnapshot(*snap); !st) {
    bump(Stats::get().snapshot_reload_rejected);
    LOG_ERROR("snapshot %s rejected, still serving version %s: %s", (*snap)->version.c_str(),
              store_.get()->version.c_str(), st.error().detail.c_str());
    return;
  }
  bump(Stats::get().snapshot_reload_ok);
  LOG_NOTICE("serving snapshot %s", (*snap)->version.c_str());
}

void Server::beginDrain() {
  if (draining_) return;
  draining_ = true;
  LOG_NOTICE("draining: no new connections, up to %lld ms for requests in flight",
             static_cast<long long>(options_.drain_timeout.count()));
  for (auto& w : workers_)
    w->drain();
  drain_deadline_ = std::chrono::steady_clock::now() + options_.drain_timeout;
  checkDrained();
}

void Server::checkDrained() {
  uint64_t active = 0;
  for (auto& w : workers_)
    active += w->activeConnections();
  if (active == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (active)
      LOG_WARN("drain timeout: closing %llu connections", static_cast<unsigned long long>(active));
    else
      LOG_NOTICE("drained");
    main_.stop();
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(50));
  drain_timer_.async_wait([this](std::error_code ec) {
    if (!ec) checkDrained();
  });
}

int Server::run() {
  main_.run();
  for (auto& w : workers_)
    w->stop();
  for (auto& w : workers_)
    w->join();
  return 0;
}

}  // namespace meshnode::proxy
