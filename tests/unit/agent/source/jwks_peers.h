#pragma once

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"

// Real peers for the fetch tests: a plain `python3 -m http.server` and an `openssl s_server
// -WWW`, both serving files from a directory on loopback, with certificates the test issues.
namespace meshnode::agent::source::testing {

namespace fs = std::filesystem;

// A child process, stopped with SIGTERM and reaped when it goes out of scope.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const fs::path& cwd, std::vector<std::string> argv) {
    // Everything the child needs is made before fork: after it, only exec-safe calls.
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    std::string dir = cwd.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(127);
      // The peers chatter on stdout and stderr; the test output stays readable without it.
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept {
    stop();
    pid_ = std::exchange(o.pid_, -1);
    return *this;
  }
  ~ChildProcess() { stop(); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A loopback port nothing listens on right now.
inline int freePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

inline bool accepting(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// Waits (bounded) until a server listens; the test fails when it never does.
inline void awaitListening(int port) {
  for (int i = 0; i < 400 && !accepting(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(accepting(port)) << "no server came up on 127.0.0.1:" << port;
}

inline void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline void run(const std::string& command) {
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

// A CA and a server certificate for 127.0.0.1 and localhost signed by it, plus a second CA
// that signed nothing the server holds.
inline void issueCertificates(const fs::path& dir) {
  std::string d = dir.string();
  auto q = [&](const std::string& name) { return "'" + d + "/" + name + "'"; };
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca"
      " -keyout " +
      q("ca.key") + " -out " + q("ca.pem") + " 2>/dev/null");
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
      " -subj /CN=other-ca -keyout " +
      q("other-ca.key") + " -out " + q("other-ca.pem") + " 2>/dev/null");
  run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=server"
      " -keyout " +
      q("server.key") + " -out " + q("server.csr") + " 2>/dev/null");
  writeFile(dir / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run("openssl x509 -req -in " + q("server.csr") + " -CA " + q("ca.pem") + " -CAkey " +
      q("ca.key") + " -CAcreateserial -days 1 -extfile " + q("san.ext") + " -out " +
      q("server.pem") + " 2>/dev/null");
}

}  // namespace meshnode::agent::source::testing
