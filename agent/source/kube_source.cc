#include "agent/source/kube_source.h"

#include <cerrno>
#include <cstring>

#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

namespace meshnode::agent::source {

KubeSource::KubeSource(KubeSourceOptions options)
    : options_(std::move(options)),
      event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      store_([this] {
        uint64_t one = 1;
        // A full counter already means "changed"; nothing is lost when this write fails.
        (void)!::write(event_.get(), &one, sizeof one);
      }),
      builder_(options_.domain_suffix) {}

Result<std::unique_ptr<KubeSource>> KubeSource::start(KubeSourceOptions options) {
  auto client = KubeClient::create(options.api_server, options.token_file, options.ca_file);
  if (!client) return client.error();
  std::unique_ptr<KubeSource> source(new KubeSource(std::move(options)));
  if (!source->event_.valid())
    return makeError(ErrorCode::kIo, Side::kSystem,
                     std::string("eventfd: ") + std::strerror(errno));
  for (const KubeCollection& c : kubeCollections()) {
    source->apis_.push_back(makeKubeApi(*client));
    source->watches_.push_back(std::make_unique<KubeListWatch>(
        *source->apis_.back(), c, source->store_, source->options_.timing));
  }
  for (size_t i = 0; i < source->watches_.size(); ++i) {
    KubeSource* self = source.get();
    self->threads_.emplace_back([self, i] { self->runWatch(*self->watches_[i]); });
  }
  LOG_NOTICE("config source: watching %zu collections at %s", source->watches_.size(),
             source->options_.api_server.c_str());
  return source;
}

KubeSource::~KubeSource() {
  stop_ = true;
  for (auto& t : threads_)
    t.join();
}

void KubeSource::runWatch(KubeListWatch& watch) {
  while (!stop_) {
    auto delay = watch.turn(stop_);
    auto until = Clock::now() + delay;
    while (!stop_ && Clock::now() < until)
      std::this_thread::sleep_for(
          std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
  }
}

bool KubeSource::synced() const {
  for (const auto& w : watches_)
    if (!w->listed()) return false;
  return true;
}

bool KubeSource::waitForSync(std::chrono::milliseconds budget) {
  auto deadline = Clock::now() + budget;
  while (!synced() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return synced();
}

void KubeSource::onReadable(Clock::time_point now) {
  uint64_t count = 0;
  if (::read(event_.get(), &count, sizeof count) != sizeof count) return;
  if (!first_) first_ = now;
  last_ = now;
}

bool KubeSource::due(Clock::time_point now) {
  auto deadline = nextDeadline();
  if (!deadline || now < *deadline) return false;
  first_.reset();
  last_.reset();
  return true;
}

std::optional<KubeSource::Clock::time_point> KubeSource::nextDeadline() const {
  if (!first_) return std::nullopt;
  return std::min(*last_ + options_.debounce, *first_ + options_.debounce * 5);
}

Result<KubeMeshLoad> KubeSource::load() {
  std::string waiting;
  for (const auto& w : watches_) {
    if (w->listed()) continue;
    std::string why = w->lastError();
    waiting += (waiting.empty() ? "" : ", ") + w->collection().kind +
               (why.empty() ? "" : " (" + why + ")");
  }
  if (!waiting.empty())
    return makeError(
        ErrorCode::kIo, Side::kUpstream,
        "config.source kubernetes " + options_.api_server + ": not yet listed: " + waiting, true);
  return builder_.build(store_.snapshot());
}

std::optional<nlohmann::json> KubeSource::groupProbe(const std::string& name_space,
                                                     const std::string& name) const {
  auto objects = store_.snapshot();
  auto groups = objects.find("WorkloadGroup");
  if (groups == objects.end()) return std::nullopt;
  auto group = groups->second.find(name_space + "/" + name);
  if (group == groups->second.end()) return std::nullopt;
  const nlohmann::json spec = group->second.value("spec", nlohmann::json::object());
  if (!spec.is_object() || !spec.contains("probe")) return std::nullopt;
  return spec["probe"];
}

}  // namespace meshnode::agent::source
