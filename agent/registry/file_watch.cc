#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent/registry/file_registry.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace meshnode::agent {
namespace {

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// Rescans this often even without events: the directory may come back after being removed,
// and disconnected entries age out without anyone writing.
constexpr int kRescanMillis = 500;

// Watches the registry directory with inotify on a thread of its own and reports the
// difference between successive scans. The callback runs on that thread.
class FileWatch : public RegistryWatch {
 public:
  FileWatch(FileRegistryOptions options, Registry::WatchCallback callback, UniqueFd inotify,
            UniqueFd wake)
      : options_(std::move(options)),
        callback_(std::move(callback)),
        inotify_(std::move(inotify)),
        wake_(std::move(wake)) {
    thread_ = std::thread([this] { run(); });
  }

  ~FileWatch() override {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof(one));
    thread_.join();
  }

 private:
  void run() {
    rescan();
    for (;;) {
      if (wd_ < 0) {
        wd_ = ::inotify_add_watch(inotify_.get(), options_.directory.c_str(), kWatchMask);
        if (wd_ >= 0) rescan();
      }
      pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
      int n = ::poll(fds, 2, kRescanMillis);
      if (n < 0 && errno != EINTR) return;
      if (fds[0].revents != 0) return;
      if (fds[1].revents != 0) drainEvents();
      rescan();
    }
  }

  void drainEvents() {
    alignas(inotify_event) char buf[4096];
    for (;;) {
      ssize_t n = ::read(inotify_.get(), buf, sizeof(buf));
      if (n <= 0) return;
      for (ssize_t off = 0; off < n;) {
        inotify_event ev;
        std::memcpy(&ev, buf + off, sizeof(ev));
        if (ev.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
          if (wd_ >= 0) ::inotify_rm_watch(inotify_.get(), wd_);
          wd_ = -1;
        }
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
      }
    }
  }

  void rescan() {
    auto scanned = scanRegistryDirectory(options_.directory, options_.cleanup_grace);
    if (!scanned.ok()) {
      // A missing directory lists nothing; entries seen before are gone.
      if (scanned.error().code != ErrorCode::kNotFound) {
        LOG_WARN("registry: %s", scanned.error().detail.c_str());
        return;
      }
      scanned = std::map<std::string, WorkloadEntry>{};
    }
    auto& now = *scanned;
    announceChanges(known_, now, callback_);
    known_ = std::move(now);
  }

  FileRegistryOptions options_;
  Registry::WatchCallback callback_;
  UniqueFd inotify_;
  UniqueFd wake_;
  int wd_ = -1;
  std::map<std::string, WorkloadEntry> known_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<RegistryWatch>> FileRegistry::watch(WatchCallback callback) {
  UniqueFd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify.valid()) {
    return makeError(ErrorCode::kIo, Side::kSystem,
                     std::string("inotify_init1: ") + std::strerror(errno));
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return makeError(ErrorCode::kIo, Side::kSystem,
                     std::string("eventfd: ") + std::strerror(errno));
  }
  return std::unique_ptr<RegistryWatch>(std::make_unique<FileWatch>(
      options_, std::move(callback), std::move(inotify), std::move(wake)));
}

}  // namespace meshnode::agent
