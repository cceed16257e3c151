#include "iptables/capture_lock.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>

namespace meshnode::iptables {

Result<CaptureLock> CaptureLock::acquire(const std::string& path) {
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
