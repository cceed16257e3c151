#include "agent/status/status_server.h"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace meshnode::agent::status {
namespace {

constexpr size_t kMaxHead = 8192;
constexpr size_t kMaxConnections = 64;
constexpr auto kIdle = std::chrono::seconds(5);

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

std::string renderResponse(const StatusResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += r.body;
  return out;
}

Result<std::unique_ptr<StatusServer>> StatusServer::start(const std::string& address, uint16_t port,
                                                          Handler handler) {
  const std::string where = "status server " + address + ":" + std::to_string(port);
  std::unique_ptr<StatusServer> s(new StatusServer());
  s->handler_ = std::move(handler);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig, where + ": not an IPv4 address");
  s->listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(s->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s->listener_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(s->listener_.get(), 64) != 0)
    return makeError(ErrorCode::kIo, Side::kSystem,
                     where + ": " + std::strerror(errno) +
                         (errno == EADDRINUSE ? " (is another meshnode-agent running?)" : ""));
  socklen_t len = sizeof sa;
  ::getsockname(s->listener_.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  s->port_ = ntohs(sa.sin_port);
  return s;
}

std::vector<pollfd> StatusServer::pollFds() const {
  std::vector<pollfd> fds;
  if (connections_.size() < kMaxConnections) fds.push_back({listener_.get(), POLLIN, 0});
  for (const auto& [fd, c] : connections_)
    fds.push_back({fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
  return fds;
}

void StatusServer::process(std::span<const pollfd> fds, Clock::time_point now) {
  for (const pollfd& p : fds) {
    if (!p.revents) continue;
    if (p.fd == listener_.get()) {
      accept(now);
      continue;
    }
    auto it = connections_.find(p.fd);
    if (it == connections_.end()) continue;
    bool keep = (p.revents & POLLOUT) ? onWritable(p.fd, it->second) : onReadable(p.fd, it->second);
    if (!keep) {
      ::close(p.fd);
      connections_.erase(it);
    }
  }
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (now - it->second.since > kIdle) {
      ::close(it->first);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void StatusServer::accept(Clock::time_point now) {
  while (connections_.size() < kMaxConnections) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    connections_[fd].since = now;
  }
}

bool StatusServer::onReadable(int fd, Connection& c) {
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
  if (n < 0) return true;
  c.in.append(buf, static_cast<size_t>(n));
  auto end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() <= kMaxHead) return true;
    c.out = renderResponse({400, "text/plain; charset=utf-8", "request head too large\n"});
    return onWritable(fd, c);
  }
  // "GET /path HTTP/1.1"
  auto sp1 = c.in.find(' ');
  auto sp2 = sp1 == std::string::npos ? sp1 : c.in.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp2 > end) {
    c.out = renderResponse({400, "text/plain; charset=utf-8", "malformed request line\n"});
  } else if (c.in.compare(0, sp1, "GET") != 0) {
    c.out = renderResponse({405, "text/plain; charset=utf-8", "only GET\n"});
  } else {
    std::string path = c.in.substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    c.out = renderResponse(handler_(path));
  }
  return onWritable(fd, c);
}

bool StatusServer::onWritable(int fd, Connection& c) {
  while (c.written < c.out.size()) {
    ssize_t n = ::send(fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c.written += static_cast<size_t>(n);
  }
  return false;
}

}  // namespace meshnode::agent::status
