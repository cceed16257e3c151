#include "agent/source/jwks_fetcher.h"

#include <cerrno>
#include <cstring>
#include <optional>

#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

namespace meshnode::agent::source {

Result<std::unique_ptr<JwksFetcher>> JwksFetcher::create(Options options) {
  std::unique_ptr<JwksFetcher> fetcher(new JwksFetcher(std::move(options)));
  fetcher->event_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  fetcher->cancel_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fetcher->event_.valid() || !fetcher->cancel_.valid())
    return makeError(ErrorCode::kIo, Side::kSystem,
                     std::string("JWKS fetcher: eventfd: ") + std::strerror(errno));
  fetcher->worker_ = std::thread([f = fetcher.get()] { f->run(); });
  return fetcher;
}

JwksFetcher::~JwksFetcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(cancel_.get(), &one, sizeof one);
  if (worker_.joinable()) worker_.join();
}

void JwksFetcher::setUris(std::vector<std::string> uris) {
  std::lock_guard lock(mu_);
  std::map<std::string, std::unique_ptr<Entry>> next;
  for (std::string& uri : uris) {
    if (next.contains(uri)) continue;
    if (auto it = entries_.find(uri); it != entries_.end()) {
      next.emplace(uri, std::move(it->second));
      continue;
    }
    if (auto parsed = parseHttpUri(uri); !parsed) {
      LOG_WARN("JWKS %s not fetched: %s", uri.c_str(), parsed.error().detail.c_str());
      continue;
    }
    LOG_INFO("JWKS %s: fetching", uri.c_str());
    next.emplace(uri, std::make_unique<Entry>(uri, options_.timing));
  }
  for (const auto& [uri, entry] : entries_)
    if (entry && !entry->document.empty()) ++generation_;  // a document dropped
  entries_ = std::move(next);
  changed_.notify_all();
}

void JwksFetcher::refreshNow() {
  std::lock_guard lock(mu_);
  for (auto& [uri, entry] : entries_)
    entry->forced = true;
  changed_.notify_all();
}

void JwksFetcher::onReadable() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(event_.get(), &count, sizeof count);
}

uint64_t JwksFetcher::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

uint64_t JwksFetcher::attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

std::map<std::string, std::string> JwksFetcher::documents() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [uri, entry] : entries_)
    if (!entry->document.empty()) out.emplace(uri, entry->document);
  return out;
}

std::string JwksFetcher::lastError(const std::string& uri) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(uri);
  return it == entries_.end() ? std::string() : it->second->last_error;
}

void JwksFetcher::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = std::chrono::system_clock::now();
    std::string due;
    std::optional<security::SystemTime> next;
    for (auto& [uri, entry] : entries_) {
      if (entry->forced || entry->cache.due(now)) {
        due = uri;
        break;
      }
      if (!next || entry->cache.nextAttempt() < *next) next = entry->cache.nextAttempt();
    }
    if (due.empty()) {
      if (next)
        changed_.wait_until(lock, *next);
      else
        changed_.wait(lock);
      continue;
    }
    entries_[due]->forced = false;
    lock.unlock();
    auto body = fetchHttp(due, options_.fetch, cancel_.get());
    lock.lock();
    if (stopping_) break;
    record(due, std::move(body), std::chrono::system_clock::now());
  }
}

void JwksFetcher::record(const std::string& uri, Result<std::string> body,
                         security::SystemTime now) {
  ++attempts_;
  auto it = entries_.find(uri);
  if (it != entries_.end()) {
    Entry& entry = *it->second;
    if (!body) {
      entry.cache.onFetchFailed(body.error(), now);
      entry.last_error = body.error().describe();
    } else if (Status parsed = entry.cache.onFetched(*body, now); !parsed) {
      entry.last_error = parsed.error().describe();
    } else {
      entry.last_error.clear();
      if (entry.document != *body) {
        LOG_NOTICE("JWKS %s: %s key set (%zu keys)", uri.c_str(),
                   entry.document.empty() ? "first" : "new", entry.cache.keys()->keys().size());
        entry.document = std::move(body).value();
        ++generation_;
      }
    }
  }
  wake();
}

void JwksFetcher::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(event_.get(), &one, sizeof one);
}

}  // namespace meshnode::agent::source
