#include "agent/status/http_get.h"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace meshnode::agent::status {
namespace {

constexpr size_t kMaxReply = 16 * 1024 * 1024;

}  // namespace

Result<HttpReply> httpGet(const std::string& address, uint16_t port, const std::string& path,
                          std::chrono::milliseconds timeout) {
  const std::string peer = address + ":" + std::to_string(port);
  auto fail = [&](ErrorCode code, const std::string& what) {
    return makeError(code, Side::kUpstream, "GET http://" + peer + path + ": " + what, true);
  };
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    return fail(ErrorCode::kInvalidArgument, "not an IPv4 address");
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fail(ErrorCode::kIo, std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait = [&](short events) -> bool {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd.get(), events, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  };
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno != EINPROGRESS) return fail(ErrorCode::kRefused, std::strerror(errno));
    if (!wait(POLLOUT)) return fail(ErrorCode::kTimeout, "connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return fail(ErrorCode::kRefused, std::strerror(err));
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + peer + "\r\n\r\n";
  for (size_t off = 0; off < request.size();) {
    ssize_t n = ::send(fd.get(), request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait(POLLOUT)) return fail(ErrorCode::kTimeout, "write timed out");
    } else {
      return fail(ErrorCode::kReset, std::strerror(errno));
    }
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > kMaxReply) return fail(ErrorCode::kLimit, "reply too large");
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN) {
      if (!wait(POLLIN)) return fail(ErrorCode::kTimeout, "read timed out");
    } else {
      return fail(ErrorCode::kReset, std::strerror(errno));
    }
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  auto sp = raw.find(' ');
  auto head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/") || sp == std::string::npos || head_end == std::string::npos)
    return fail(ErrorCode::kProtocol, "not an HTTP reply");
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + sp + 1);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

}  // namespace meshnode::agent::status
