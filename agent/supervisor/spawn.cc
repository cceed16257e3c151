#include "agent/supervisor/spawn.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"

extern char** environ;

namespace meshnode::agent::supervisor {
namespace {

Error systemError(const std::string& what, int err) {
  return makeError(ErrorCode::kIo, Side::kSystem, what + ": " + std::strerror(err));
}

// Only async-signal-safe calls between fork and exec: the step that failed and errno go back
// through the pipe.
[[noreturn]] void childFail(int fd, int step) {
  int msg[2] = {step, errno};
  [[maybe_unused]] ssize_t n = ::write(fd, msg, sizeof msg);
  ::_exit(127);
}

constexpr const char* kSteps[] = {
    "setgroups", "setgid", "setuid", "clear ambient capabilities", "set parent-death signal",
    "exec"};

}  // namespace

Result<Credentials> lookupUser(const std::string& user) {
  errno = 0;
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) {
    std::string why = errno ? std::strerror(errno) : "no such user";
    return makeError(
        ErrorCode::kNotFound, Side::kConfig,
        "proxy.user \"" + user + "\": " + why + " (create it, e.g. useradd --system " + user + ")");
  }
  return Credentials{pw->pw_uid, pw->pw_gid, user};
}

Result<pid_t> spawnProcess(const SpawnSpec& spec) {
  if (spec.credentials && ::geteuid() != 0 && ::geteuid() != spec.credentials->uid)
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "proxy.user \"" + spec.credentials->user + "\": the agent runs as uid " +
                         std::to_string(::geteuid()) + " and cannot switch to uid " +
                         std::to_string(spec.credentials->uid));
  // Everything the child needs is built before fork: it may not allocate.
  std::vector<std::string> argv_s{spec.binary};
  argv_s.insert(argv_s.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto named = [](std::string_view kv, std::string_view name) {
    return kv.size() > name.size() && kv.starts_with(name) && kv[name.size()] == '=';
  };
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    bool drop = false;
    for (const auto& name : spec.unset_env)
      drop = drop || named(*e, name);
    if (!drop) envp.push_back(*e);
  }
  std::vector<std::string> defaults = spec.default_env;
  for (auto& kv : defaults) {
    std::string_view name = std::string_view(kv).substr(0, kv.find('='));
    bool present = false;
    for (char** e = environ; *e && !present; ++e)
      present = named(*e, name);
    if (!present) envp.push_back(kv.data());
  }
  envp.push_back(nullptr);
  const bool switch_user = spec.credentials && ::geteuid() == 0;
  const uid_t uid = spec.credentials ? spec.credentials->uid : 0;
  const gid_t gid = spec.credentials ? spec.credentials->gid : 0;

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return systemError("pipe", errno);
  UniqueFd rd(fds[0]), wr(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return systemError("fork", errno);
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int sig = 1; sig < NSIG; ++sig)
      ::signal(sig, SIG_DFL);
    if (switch_user) {
      if (::setgroups(0, nullptr) != 0) childFail(wr.get(), 0);
      if (::setgid(gid) != 0) childFail(wr.get(), 1);
      if (::setuid(uid) != 0) childFail(wr.get(), 2);
    }
    // The agent keeps CAP_NET_ADMIN as an ambient capability; the proxy must not inherit it.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
      childFail(wr.get(), 3);
    // Set after the uid change, which clears it.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) childFail(wr.get(), 4);
    ::execve(argv[0], argv.data(), envp.data());
    childFail(wr.get(), 5);
  }
  wr.reset();
  int msg[2];
  ssize_t n;
  do {
    n = ::read(rd.get(), msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof msg)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::string what = std::string(kSteps[msg[0] % 6]) + " for proxy.binary " + spec.binary;
    if (spec.credentials) what += " as " + spec.credentials->user;
    return systemError(what, msg[1]);
  }
  return pid;
}

}  // namespace meshnode::agent::supervisor
