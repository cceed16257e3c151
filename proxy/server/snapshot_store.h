#pragma once

#include <atomic>
#include <memory>

#include "proxy/snapshot/snapshot.h"

namespace meshnode::proxy {

// The snapshot in force. Written by the main thread on reload, read by every worker at the
// start of each connection and request; the old snapshot dies with its last request.
class SnapshotStore {
 public:
  SnapshotPtr get() const { return current_.load(std::memory_order_acquire); }
  void set(SnapshotPtr snapshot) { current_.store(std::move(snapshot), std::memory_order_release); }

 private:
  std::atomic<SnapshotPtr> current_;
};

}  // namespace meshnode::proxy
