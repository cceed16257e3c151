#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace meshnode::proxy {

// A bounded body stream between one producer codec and one consumer codec of the same worker.
// The producer is told to pause when the pipe holds more than its high watermark and learns
// from on_consumed how much was taken, which is how HTTP/2 windows open only as data is read
// and HTTP/1 readers resume. The bytes sit in one buffer that keeps its capacity, so a small
// body costs one allocation however many requests the pipe's owner carries.
class BodyPipe {
 public:
  explicit BodyPipe(size_t high_watermark) : high_(high_watermark) {}

  // Producer side.
  void push(std::string_view data) {
    if (data.empty() || ended_ || aborted_) return;
    if (detached_) {
      // Nobody will read it: count it as consumed so windows and readers keep moving.
      if (on_consumed) on_consumed(data.size());
      return;
    }
    if (offset_ >= buf_.size() / 2 && offset_ >= 4096) {
      // Most of the buffer was read: drop the read part before it grows further.
      buf_.erase(0, offset_);
      offset_ = 0;
    }
    buf_.append(data);
    wake();
  }
  void finish() {
    if (ended_ || aborted_) return;
    ended_ = true;
    wake();
  }
  void abort() {
    if (aborted_ || ended_) return;
    aborted_ = true;
    wake();
  }
  bool full() const { return size() >= high_; }

  // Consumer side: takes up to max bytes.
  size_t read(char* out, size_t max) {
    size_t n = buf_.copy(out, max, offset_);
    offset_ += n;
    if (offset_ == buf_.size()) {
      buf_.clear();
      offset_ = 0;
    }
    consumed_any_ = consumed_any_ || n > 0;
    if (n && on_consumed) on_consumed(n);
    return n;
  }
  std::string readAll() {
    std::string out(size(), '\0');
    out.resize(read(out.data(), out.size()));
    return out;
  }
  // The consumer is done for good (it finished, failed, or never needed the body): what is
  // buffered and what still comes is dropped.
  void detach() {
    if (detached_) return;
    detached_ = true;
    size_t dropped = size();
    buf_.clear();
    offset_ = 0;
    on_readable = nullptr;
    if (dropped && on_consumed) on_consumed(dropped);
  }
  size_t size() const { return buf_.size() - offset_; }
  bool ended() const { return ended_; }
  bool aborted() const { return aborted_; }
  // True when the consumer has seen everything the producer will send.
  bool drained() const { return ended_ && size() == 0; }
  // True once the consumer took any byte: a request can then no longer be replayed.
  bool touched() const { return consumed_any_; }
  // True once a consumer gave up on the body: it is gone and cannot be sent again.
  bool detached() const { return detached_; }

  std::function<void()> on_readable;        // for the consumer
  std::function<void(size_t)> on_consumed;  // for the producer

 private:
  // Through a copy: the consumer may unhook itself (or go) from inside the call.
  void wake() {
    if (!on_readable) return;
    auto hook = on_readable;
    hook();
  }

  size_t high_;
  std::string buf_;
  size_t offset_ = 0;  // read so far from the front of buf_
  bool ended_ = false;
  bool aborted_ = false;
  bool consumed_any_ = false;
  bool detached_ = false;
};

}  // namespace meshnode::proxy
