#include "agent/dns/upstream.h"

#include <mutex>

namespace meshnode::agent::dns {
namespace {

std::string joinServers(const std::vector<std::string>& servers) {
  std::string csv;
  for (const auto& s : servers) {
    if (!csv.empty()) csv += ',';
    csv += s;
  }
  return csv;
}

}  // namespace

Error aresError(int status, const std::string& what) {
  ErrorCode code = ErrorCode::kIo;
  bool retryable = true;
  switch (status) {
    case ARES_ETIMEOUT:
      code = ErrorCode::kTimeout;
      break;
    case ARES_ECONNREFUSED:
    case ARES_EREFUSED:
      code = ErrorCode::kRefused;
      break;
    case ARES_EBADRESP:
    case ARES_EFORMERR:
      code = ErrorCode::kProtocol;
      break;
    case ARES_ENOMEM:
      code = ErrorCode::kLimit;
      break;
    case ARES_EBADQUERY:
    case ARES_EBADNAME:
    case ARES_EBADSTR:
      code = ErrorCode::kInvalidArgument;
      retryable = false;
      break;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      code = ErrorCode::kReset;
      retryable = false;
      break;
    default:
      break;
  }
  return makeError(code, Side::kUpstream, what + ": " + ares_strerror(status), retryable);
}

Result<std::unique_ptr<Upstream>> Upstream::create(const std::vector<std::string>& servers,
                                                   std::chrono::milliseconds try_timeout,
                                                   int tries) {
  static std::once_flag init_once;
  static int init_status = ARES_SUCCESS;
  std::call_once(init_once, [] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_status != ARES_SUCCESS) return aresError(init_status, "c-ares library init");
  if (servers.empty()) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig, "no upstream DNS servers");
  }

  std::unique_ptr<Upstream> up(new Upstream());
  ares_options options{};
  options.timeout = static_cast<int>(try_timeout.count());
  options.tries = tries;
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (int rc = ares_init_options(&up->channel_, &options, mask); rc != ARES_SUCCESS) {
    return aresError(rc, "c-ares channel");
  }
  std::string csv = joinServers(servers);
  if (int rc = ares_set_servers_ports_csv(up->channel_, csv.c_str()); rc != ARES_SUCCESS) {
    return aresError(rc, "upstream servers \"" + csv + "\"");
  }
  return up;
}

Upstream::~Upstream() {
  destroying_ = true;
  // Calls every outstanding callback with ARES_EDESTRUCTION; finish() ignores them.
  if (channel_ != nullptr) ares_destroy(channel_);
}

void Upstream::send(std::span<const uint8_t> query, Callback callback) {
  uint64_t token = next_token_++;
  auto entry = std::make_unique<InFlight>(InFlight{this, token, std::move(callback)});
  InFlight* arg = entry.get();
  in_flight_.emplace(token, std::move(entry));
  // May call back synchronously (on a bad query), after which `arg` is gone.
  ares_send(channel_, query.data(), static_cast<int>(query.size()), &Upstream::onAnswer, arg);
}

void Upstream::onAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* entry = static_cast<InFlight*>(arg);
  entry->owner->finish(entry->token, status, abuf, alen);
}

void Upstream::finish(uint64_t token, int status, const unsigned char* abuf, int alen) {
  if (destroying_) return;
  auto it = in_flight_.find(token);
  if (it == in_flight_.end()) return;
  Callback callback = std::move(it->second->callback);
  in_flight_.erase(it);
  if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
    callback(std::vector<uint8_t>(abuf, abuf + alen));
  } else {
    callback(aresError(status, "upstream DNS"));
  }
}

std::vector<pollfd> Upstream::pollFds() const {
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
  std::vector<pollfd> fds;
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    short events = 0;
    if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
    if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
    if (events != 0) fds.push_back(pollfd{socks[i], events, 0});
  }
  return fds;
}

void Upstream::process(std::span<const pollfd> fds) {
  for (const pollfd& p : fds) {
    if (p.revents == 0) continue;
    bool readable = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    bool writable = (p.revents & POLLOUT) != 0;
    ares_process_fd(channel_, readable ? p.fd : ARES_SOCKET_BAD, writable ? p.fd : ARES_SOCKET_BAD);
  }
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

std::optional<std::chrono::milliseconds> Upstream::nextTimeout() const {
  timeval tv{};
  timeval* t = ares_timeout(channel_, nullptr, &tv);
  if (t == nullptr) return std::nullopt;
  return std::chrono::milliseconds(t->tv_sec * 1000 + t->tv_usec / 1000 + 1);
}

}  // namespace meshnode::agent::dns
