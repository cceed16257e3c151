#pragma once

namespace meshnode::proxy {

// A downstream connection a drain must tell to finish: an HTTP/2 connection sends GOAWAY, an
// idle HTTP/1 connection closes, a busy one closes after its response.
class Drainable {
 public:
  virtual ~Drainable() = default;
  virtual void drain() = 0;
};

}  // namespace meshnode::proxy
