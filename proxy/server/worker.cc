#include "proxy/server/worker.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>

#include "common/log.h"
#include "proxy/pipeline.h"
#include "proxy/stats/stats.h"

namespace meshnode::proxy {

struct Worker::Acceptor {
  Acceptor(asio::io_context& ctx, Listener l) : acceptor(ctx), listener(std::move(l)) {}
  asio::ip::tcp::acceptor acceptor;
  Listener listener;
};

std::string listenerKey(const Listener& l) {
  return l.address + "|" + std::to_string(l.port);
}

Worker::Worker(int index, const SnapshotStore& store) : index_(index), store_(store) {}

Worker::~Worker() {
  stop();
  join();
  while (parked_)
    parked_->abandon();  // abandon() unparks
}

void Worker::park(Parked& p) {
  p.prev_ = nullptr;
  p.next_ = parked_;
  if (parked_) parked_->prev_ = &p;
  parked_ = &p;
  p.parked_ = true;
}

void Worker::unpark(Parked& p) {
  if (!p.parked_) return;
  p.parked_ = false;
  if (p.prev_)
    p.prev_->next_ = p.next_;
  else
    parked_ = p.next_;
  if (p.next_) p.next_->prev_ = p.prev_;
  p.prev_ = p.next_ = nullptr;
}

void Worker::start() {
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      ctx_.get_executor());
  thread_ = std::thread([this] { ctx_.run(); });
}

void Worker::stop() {
  work_.reset();
  ctx_.stop();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::addListener(const Listener& listener, int fd) {
  asio::post(ctx_, [this, listener, fd] {
    auto a = std::make_shared<Acceptor>(ctx_, listener);
    std::error_code ec;
    asio::ip::address addr = asio::ip::make_address(listener.address, ec);
    a->acceptor.assign(addr.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
    if (ec) {
      LOG_ERROR("listener %s: %s", listener.name.c_str(), ec.message().c_str());
      ::close(fd);
      return;
    }
    acceptors_[listenerKey(listener)] = a;
    acceptLoop(a);
  });
}

void Worker::removeListener(const std::string& key) {
  asio::post(ctx_, [this, key] {
    auto it = acceptors_.find(key);
    if (it == acceptors_.end()) return;
    std::error_code ec;
    it->second->acceptor.close(ec);
    acceptors_.erase(it);
  });
}

void Worker::acceptLoop(std::shared_ptr<Acceptor> a) {
  a->acceptor.async_accept([this, a](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !a->acceptor.is_open()) return;
    if (!ec) {
      SnapshotPtr snap = store_.get();
      if (active_.load(std::memory_order_relaxed) >= snap->limits.max_connections) {
        bump(Stats::get().downstream_cx_overflow);
        socket.close(ec);
      } else {
        // A listener kept across snapshots takes its settings from the newest one.
        Listener settings = a->listener;
        for (const auto& l : snap->listeners)
          if (listenerKey(l) == listenerKey(a->listener)) settings = l;
        active_.fetch_add(1, std::memory_order_relaxed);
        asio::co_spawn(
            ctx_, serveConnection(*this, std::move(socket), settings, snap),
            [this](std::exception_ptr) { active_.fetch_sub(1, std::memory_order_relaxed); });
      }
    }
    acceptLoop(a);
  });
}

void Worker::drain() {
  asio::post(ctx_, [this] {
    draining_ = true;
    for (auto& [key, a] : acceptors_) {
      std::error_code ec;
      a->acceptor.close(ec);
    }
    acceptors_.clear();
    pool_.closeAll();
    for (auto& weak : tracked_)
      if (auto d = weak.lock()) d->drain();
  });
}

std::list<std::weak_ptr<Drainable>>::iterator Worker::track(std::weak_ptr<Drainable> d) {
  return tracked_.insert(tracked_.end(), std::move(d));
}

void Worker::untrack(std::list<std::weak_ptr<Drainable>>::iterator it) {
  tracked_.erase(it);
}

}  // namespace meshnode::proxy
