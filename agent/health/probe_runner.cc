#include "agent/health/probe_runner.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "agent/health/probe_stream.h"
#include "common/unique_fd.h"

extern char** environ;

namespace meshnode::agent {
namespace {

using Clock = std::chrono::steady_clock;

int millisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

std::string hostPort(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Connects within the deadline; on failure returns an invalid fd and says why in `why`.
UniqueFd connectTo(const std::string& host, uint16_t port, Clock::time_point deadline,
                   std::string& why) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  sockaddr_in sin{};
  sockaddr_in6 sin6{};
  if (::inet_pton(AF_INET, host.c_str(), &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&ss, &sin, sizeof(sin));
    len = sizeof(sin);
  } else if (::inet_pton(AF_INET6, host.c_str(), &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&ss, &sin6, sizeof(sin6));
    len = sizeof(sin6);
  } else {
    why = "host \"" + host + "\" is not an IP address";
    return UniqueFd();
  }
  UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    why = std::string("socket: ") + std::strerror(errno);
    return UniqueFd();
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    why = std::strerror(errno);
    return UniqueFd();
  }
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, millisLeft(deadline)) <= 0) {
    why = "timed out connecting";
    return UniqueFd();
  }
  int err = 0;
  socklen_t err_len = sizeof(err);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (err != 0) {
    why = std::strerror(err);
    return UniqueFd();
  }
  return fd;
}

ProbeOutcome tcpProbe(const TcpSocketAction& a, const std::string& host,
                      Clock::time_point deadline) {
  std::string why;
  std::string target = hostPort(host, a.port);
  UniqueFd fd = connectTo(host, a.port, deadline, why);
  if (!fd.valid()) return {false, "TCPFailed", "connect " + target + ": " + why};
  return {true, "TCPSucceeded", "connected to " + target};
}

ProbeOutcome httpProbe(const HttpGetAction& a, const std::string& host,
                       Clock::time_point deadline) {
  bool tls = a.scheme == "HTTPS";
  std::string url = (tls ? "https://" : "http://") + hostPort(host, a.port) + a.path;
  auto failure = [&](const std::string& why) {
    return ProbeOutcome{false, "HTTPGetFailed", "GET " + url + ": " + why};
  };
  std::string why;
  UniqueFd fd = connectTo(host, a.port, deadline, why);
  if (!fd.valid()) return failure(why);
  auto stream = ProbeStream::open(std::move(fd), tls, deadline);
  if (!stream.ok()) return failure(stream.error().detail);

  std::string request = "GET " + a.path + " HTTP/1.1\r\nHost: " + hostPort(host, a.port) +
                        "\r\nUser-Agent: meshnode-agent-probe\r\nAccept: */*\r\n"
                        "Connection: close\r\n";
  for (const auto& [name, value] : a.headers)
    request += name + ": " + value + "\r\n";
  request += "\r\n";
  if (Status s = stream->sendAll(request, deadline); !s) return failure(s.error().detail);

  // Only the status line matters; it must arrive within the first few KiB.
  std::string head;
  while (head.find("\r\n") == std::string::npos) {
    if (head.size() > 8192) return failure("no status line");
    char buf[1024];
    auto n = stream->recvSome(buf, sizeof(buf), deadline);
    if (!n.ok()) return failure(n.error().detail);
    if (*n == 0) return failure("connection closed");
    head.append(buf, *n);
  }
  int status = 0;
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12 ||
      std::sscanf(head.c_str() + 9, "%3d", &status) != 1) {
    return failure("not an HTTP response");
  }
  // Kubernetes' rule: 200 to 399 is healthy.
  bool ok = status >= 200 && status < 400;
  return {ok, ok ? "HTTPGetSucceeded" : "HTTPGetFailed",
          "GET " + url + ": status " + std::to_string(status)};
}

ProbeOutcome execProbe(const ExecAction& a, Clock::time_point deadline) {
  std::vector<char*> argv;
  for (const std::string& word : a.command)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout ends the command and whatever it started.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &files, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  std::string what = a.command[0];
  if (rc != 0) return {false, "ExecFailed", "exec " + what + ": " + std::strerror(rc)};

  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      return {false, "ExecFailed", "wait " + what + ": " + std::strerror(errno)};
    }
    if (Clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {false, "ExecFailed", what + ": timed out"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {true, "ExecSucceeded", what + " exited 0"};
  }
  if (WIFSIGNALED(status)) {
    return {false, "ExecFailed", what + " killed by signal " + std::to_string(WTERMSIG(status))};
  }
  return {false, "ExecFailed", what + " exited " + std::to_string(WEXITSTATUS(status))};
}

}  // namespace

ProbeOutcome runProbeOnce(const Probe& probe, const std::string& default_host) {
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(probe.timeout_seconds);
  if (const auto* http = std::get_if<HttpGetAction>(&probe.action)) {
    return httpProbe(*http, http->host.empty() ? default_host : http->host, deadline);
  }
  if (const auto* tcp = std::get_if<TcpSocketAction>(&probe.action)) {
    return tcpProbe(*tcp, tcp->host.empty() ? default_host : tcp->host, deadline);
  }
  return execProbe(std::get<ExecAction>(probe.action), deadline);
}

}  // namespace meshnode::agent
