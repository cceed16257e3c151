#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/source/http_fetch.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "security/jwks_cache.h"

namespace meshnode::agent::source {

// Keeps the JWKS documents of RequestAuthentication jwksUri rules, as istiod does for a
// sidecar: each URI is fetched, refreshed on JwksCache's schedule, and a failed refresh (no
// answer, a non-200 status, a body that is not a JWKS) keeps the last good document.
//
// The public methods run on the daemon's loop thread. Fetches block, so they run on a worker
// thread of this class; it wakes the loop through pollFd() after every finished attempt, and
// generation() moves when documents() changed.
class JwksFetcher {
 public:
  struct Options {
    FetchOptions fetch;
    security::JwksCache::Timing timing;
  };

  static Result<std::unique_ptr<JwksFetcher>> create(Options options);
  ~JwksFetcher();
  JwksFetcher(const JwksFetcher&) = delete;
  JwksFetcher& operator=(const JwksFetcher&) = delete;

  // The URIs to keep. New ones are fetched at once; dropped ones are forgotten with their
  // documents. A URI that is not http(s) is logged and left without a document.
  void setUris(std::vector<std::string> uris);
  // Fetches every URI now, whatever its schedule (an operator's reload).
  void refreshNow();

  // Readable after a fetch attempt finished; drain it with onReadable().
  int pollFd() const { return event_.get(); }
  void onReadable();

  // Moves each time documents() changes.
  uint64_t generation() const;
  // uri -> body of its last good fetch; a URI never fetched successfully is absent.
  std::map<std::string, std::string> documents() const;
  // The error of the last attempt on `uri`, empty after a success.
  std::string lastError(const std::string& uri) const;
  // Attempts finished since creation, successful or not.
  uint64_t attempts() const;

 private:
  struct Entry {
    explicit Entry(std::string uri, security::JwksCache::Timing timing)
        : cache(std::move(uri), timing) {}
    security::JwksCache cache;
    std::string document;
    std::string last_error;
    bool forced = false;
  };

  explicit JwksFetcher(Options options) : options_(std::move(options)) {}
  void run();
  // Stores the outcome of one attempt; called on the worker with mu_ held.
  void record(const std::string& uri, Result<std::string> body, security::SystemTime now);
  void wake();

  Options options_;
  UniqueFd event_;   // the loop's wake-up
  UniqueFd cancel_;  // stops a fetch in flight at destruction
  std::thread worker_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  uint64_t generation_ = 0;
  uint64_t attempts_ = 0;
  bool stopping_ = false;
};

}  // namespace meshnode::agent::source
