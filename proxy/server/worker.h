#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "proxy/network/drainable.h"
#include "proxy/server/snapshot_store.h"
#include "proxy/upstream/pool.h"

namespace meshnode::proxy {

// Something kept alive by a callback stored in an object it holds: a reference cycle that ends
// when the callback runs. The worker breaks the cycles still open when it goes, since their
// callbacks will never run.
class Parked {
 public:
  virtual ~Parked() = default;
  virtual void abandon() = 0;

 private:
  friend class Worker;
  Parked* prev_ = nullptr;
  Parked* next_ = nullptr;
  bool parked_ = false;
};

// One thread with its own event loop, acceptors and upstream pool. Connections stay on the
// worker that accepted them; other threads reach it only by posting to its context.
class Worker {
 public:
  Worker(int index, const SnapshotStore& store);
  ~Worker();

  void start();
  void stop();
  void join();

  // Posted from the main thread: takes over an already bound listening socket.
  void addListener(const Listener& listener, int fd);
  void removeListener(const std::string& key);
  void drain();

  SnapshotPtr snapshot() const { return store_.get(); }
  ConnectionPool& pool() { return pool_; }
  LoadBalancer& lb() { return lb_; }
  asio::io_context& context() { return ctx_; }
  int index() const { return index_; }
  bool draining() const { return draining_; }
  uint64_t activeConnections() const { return active_.load(std::memory_order_relaxed); }

  // Registers a downstream connection for drain; returns a token to unregister it.
  std::list<std::weak_ptr<Drainable>>::iterator track(std::weak_ptr<Drainable> d);
  void untrack(std::list<std::weak_ptr<Drainable>>::iterator it);

  void park(Parked& p);
  void unpark(Parked& p);

 private:
  struct Acceptor;
  void acceptLoop(std::shared_ptr<Acceptor> acceptor);

  int index_;
  const SnapshotStore& store_;
  // One thread runs it and every socket of the worker is used on that thread only, so the
  // reactor's per-socket locks are left out; the scheduler keeps its lock for posts from the
  // main thread.
  asio::io_context ctx_{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::map<std::string, std::shared_ptr<Acceptor>> acceptors_;
  ConnectionPool pool_;
  LoadBalancer lb_;
  std::list<std::weak_ptr<Drainable>> tracked_;
  Parked* parked_ = nullptr;  // an intrusive list: parking costs no allocation
  std::atomic<uint64_t> active_{0};
  bool draining_ = false;
};

std::string listenerKey(const Listener& l);

}  // namespace meshnode::proxy
