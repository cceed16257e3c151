#include "iptables/executor.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"

extern char** environ;

namespace meshnode::iptables {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

bool makePipe(Pipe* p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  p->read.reset(fds[0]);
  p->write.reset(fds[1]);
  return true;
}

Error systemError(const std::string& what) {
  return makeError(ErrorCode::kIo, Side::kSystem, what + ": " + std::strerror(errno));
}

// Posix spawn file actions freed on every path.
class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

Result<CommandOutput> ProcessExecutor::run(const std::vector<std::string>& argv,
                                           std::string_view input) {
  if (argv.empty()) return makeError(ErrorCode::kInternal, Side::kInternal, "empty command");
  Pipe in, out, err;
  if (!makePipe(&in) || !makePipe(&out) || !makePipe(&err)) return systemError("pipe");

  SpawnActions actions;
  ::posix_spawn_file_actions_adddup2(actions.get(), in.read.get(), 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), out.write.get(), 1);
  ::posix_spawn_file_actions_adddup2(actions.get(), err.write.get(), 2);

  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), actions.get(), nullptr, args.data(), environ);
  if (rc != 0) {
    if (rc == ENOENT) {
      return makeError(ErrorCode::kNotFound, Side::kSystem,
                       argv[0] + " is not installed (not found in PATH)");
    }
    return makeError(ErrorCode::kIo, Side::kSystem,
                     "cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  in.read.reset();
  // Never block on a full pipe while the tool is itself blocked writing its output to us.
  ::fcntl(in.write.get(), F_SETFL, ::fcntl(in.write.get(), F_GETFL) | O_NONBLOCK);
  out.write.reset();
  err.write.reset();

  // A tool that exits early closes its stdin; the SIGPIPE that writing then raises is blocked
  // in this thread only and discarded below, so neither the process nor other threads see it.
  sigset_t pipe_set, previous_mask;
  ::sigemptyset(&pipe_set);
  ::sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &previous_mask);

  CommandOutput result;
  size_t written = 0;
  if (input.empty()) in.write.reset();
  char buf[16384];
  while (out.read.valid() || err.read.valid()) {
    pollfd fds[3];
    nfds_t n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.write.valid()) {
      idx_in = static_cast<int>(n);
      fds[n++] = {in.write.get(), POLLOUT, 0};
    }
    if (out.read.valid()) {
      idx_out = static_cast<int>(n);
      fds[n++] = {out.read.get(), POLLIN, 0};
    }
    if (err.read.valid()) {
      idx_err = static_cast<int>(n);
      fds[n++] = {err.read.get(), POLLIN, 0};
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = ::write(in.write.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EINTR && errno != EAGAIN) in.write.reset();
      if (written == input.size()) in.write.reset();
    }
    auto drain = [&](int idx, UniqueFd& fd, std::string& sink) {
      if (idx < 0 || !fds[idx].revents) return;
      ssize_t r = ::read(fd.get(), buf, sizeof(buf));
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    };
    drain(idx_out, out.read, result.out);
    drain(idx_err, err.read, result.err);
  }
  in.write.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  timespec no_wait{};
  while (::sigtimedwait(&pipe_set, nullptr, &no_wait) == SIGPIPE) {
  }
  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace meshnode::iptables
