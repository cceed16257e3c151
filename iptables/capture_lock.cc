#include "iptables/capture_lock.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

namespace meshnode::iptables {

Result<CaptureLock> CaptureLock::acquire(const std::string& state_dir) {
  ::mkdir(state_dir.c_str(), 0755);
  std::string path = state_dir + "/lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return makeError(ErrorCode::kIo, Side::kSystem,
                     "open lock " + path + ": " + std::strerror(errno));
  }
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      return makeError(ErrorCode::kIo, Side::kSystem, "lock " + path + ": " + std::strerror(errno));
    }
  }
  return CaptureLock(std::move(fd));
}

}  // namespace meshnode::iptables
