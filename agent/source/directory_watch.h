#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace meshnode::agent::source {

// Tells when the manifests in a directory (and its subdirectories) may have changed, through
// inotify. Events are debounced: an editor's write-rename-chmod burst is one change, reported
// once no event came for `debounce` (and at most `max_delay` after the first). The directory may
// disappear and come back: the watch on its parent notices. Runs on the daemon's loop thread,
// which polls fd().
class DirectoryWatch {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<DirectoryWatch> create(std::string directory, std::chrono::milliseconds debounce,
                                       std::chrono::milliseconds max_delay);

  int fd() const { return fd_.get(); }
  // Reads the pending events; call when fd() is readable.
  void onReadable(Clock::time_point now);
  // True once when a debounced change is due.
  bool due(Clock::time_point now);
  std::optional<Clock::time_point> nextDeadline() const;

 private:
  DirectoryWatch() = default;
  void arm();
  void mark(Clock::time_point now);

  std::string directory_;
  std::string parent_, base_;
  std::chrono::milliseconds debounce_{100}, max_delay_{500};
  UniqueFd fd_;
  std::map<int, std::string> watches_;
  int parent_watch_ = -1;
  std::optional<Clock::time_point> first_, last_;
};

}  // namespace meshnode::agent::source
