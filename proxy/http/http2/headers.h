#pragma once

#include <string_view>

#include <nghttp2/nghttp2.h>

#include "proxy/stream/body_pipe.h"

namespace meshnode::proxy::http2 {

// Per-stream and per-connection receive windows: what one peer may have in flight unread.
inline constexpr uint32_t kStreamWindow = 256 * 1024;
inline constexpr int32_t kConnectionWindow = 1024 * 1024;

inline nghttp2_nv makeNv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

// A data provider body read: what the pipe holds, DEFERRED while it is empty, EOF at its end,
// and a stream reset when the producer gave up.
inline ssize_t readFromPipe(BodyPipe& pipe, uint8_t* buf, size_t length, uint32_t* flags) {
  size_t n = pipe.read(reinterpret_cast<char*>(buf), length);
  if (pipe.drained()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n > 0) return static_cast<ssize_t>(n);
  if (pipe.aborted()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return NGHTTP2_ERR_DEFERRED;
}

}  // namespace meshnode::proxy::http2
