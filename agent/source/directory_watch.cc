#include "agent/source/directory_watch.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/inotify.h>
#include <unistd.h>

namespace meshnode::agent::source {
namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB |
                                IN_MODIFY | IN_ONLYDIR;
constexpr uint32_t kParentEvents = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR;

}  // namespace

Result<DirectoryWatch> DirectoryWatch::create(std::string directory,
                                              std::chrono::milliseconds debounce,
                                              std::chrono::milliseconds max_delay) {
  DirectoryWatch w;
  std::filesystem::path p(directory);
  while (p.has_filename() == false && p.has_parent_path() && p != p.root_path())
    p = p.parent_path();
  w.directory_ = p.string();
  w.parent_ = p.parent_path().string();
  w.base_ = p.filename().string();
  w.debounce_ = debounce;
  w.max_delay_ = max_delay;
  w.fd_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w.fd_.valid())
    return makeError(ErrorCode::kIo, Side::kSystem,
                     std::string("inotify_init1: ") + std::strerror(errno));
  w.parent_watch_ = ::inotify_add_watch(w.fd_.get(), w.parent_.c_str(), kParentEvents);
  if (w.parent_watch_ < 0)
    return makeError(ErrorCode::kIo, Side::kConfig,
                     "config.directory " + w.directory_ + ": cannot watch its parent " + w.parent_ +
                         ": " + std::strerror(errno));
  w.arm();
  return w;
}

// Watches the directory and every subdirectory; watching an existing one again is harmless.
void DirectoryWatch::arm() {
  std::error_code ec;
  auto add = [&](const std::string& dir) {
    int wd = ::inotify_add_watch(fd_.get(), dir.c_str(), kDirEvents);
    if (wd >= 0) watches_[wd] = dir;
  };
  if (!std::filesystem::is_directory(directory_, ec)) return;
  add(directory_);
  for (auto it = std::filesystem::recursive_directory_iterator(directory_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec)) add(it->path().string());
}

void DirectoryWatch::mark(Clock::time_point now) {
  if (!first_) first_ = now;
  last_ = now;
}

void DirectoryWatch::onReadable(Clock::time_point now) {
  alignas(inotify_event) char buf[8192];
  bool rearm = false;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->wd == parent_watch_) {
        if (ev->len && base_ == ev->name) {
          mark(now);
          rearm = true;
        }
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        watches_.erase(ev->wd);
        continue;
      }
      // A new subdirectory needs its own watch.
      if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) rearm = true;
      mark(now);
    }
  }
  if (rearm) arm();
}

bool DirectoryWatch::due(Clock::time_point now) {
  auto deadline = nextDeadline();
  if (!deadline || now < *deadline) return false;
  first_.reset();
  last_.reset();
  return true;
}

std::optional<DirectoryWatch::Clock::time_point> DirectoryWatch::nextDeadline() const {
  if (!first_) return std::nullopt;
  return std::min(*last_ + debounce_, *first_ + max_delay_);
}

}  // namespace meshnode::agent::source
