#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "common/result.h"
#include "proxy/admin/admin_server.h"
#include "proxy/server/snapshot_store.h"
#include "proxy/server/worker.h"
#include "proxy/tls/tls_loader.h"

namespace meshnode::proxy {

struct ServerOptions {
  std::string snapshot_path;
  int concurrency = 0;  // 0: one worker per core
  Millis drain_timeout{5000};
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 15000;
};

// The process: loads the snapshot, binds listeners, runs the workers, and on the main thread
// handles signals (SIGHUP reload, SIGTERM/SIGINT drain) and the admin listener.
class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Loads the first snapshot and binds everything; an error here is a start-up error.
  Status start();
  // Runs until drained; returns the process exit code.
  int run();

 private:
  Status applySnapshot(SnapshotPtr snapshot);
  void reload();
  void beginDrain();
  void checkDrained();
  void waitSignal();
  void scheduleTrim();
  void pollIdentity();

  ServerOptions options_;
  SnapshotStore store_;
  asio::io_context main_{1};
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer trim_timer_;
  asio::steady_timer identity_timer_;
  TlsLoader tls_;
  std::unique_ptr<AdminServer> admin_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, Listener> listeners_;  // by listenerKey
  std::chrono::steady_clock::time_point drain_deadline_;
  bool draining_ = false;
  bool ready_ = false;
};

}  // namespace meshnode::proxy
