#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <nghttp2/nghttp2.h>

#include "proxy/network/tcp_reader.h"
#include "proxy/network/transport.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stream/event.h"

namespace meshnode::proxy::http2 {

// Owns an nghttp2_session.
struct SessionDeleter {
  void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};
using SessionPtr = std::unique_ptr<nghttp2_session, SessionDeleter>;

struct CallbacksDeleter {
  void operator()(nghttp2_session_callbacks* c) const { nghttp2_session_callbacks_del(c); }
};
struct OptionDeleter {
  void operator()(nghttp2_option* o) const { nghttp2_option_del(o); }
};

// The socket side of an HTTP/2 connection, shared by the server and client codecs: a reader
// feeding nghttp2 and a writer draining it. Windows are opened by the codecs only as bodies are
// consumed (automatic WINDOW_UPDATE is off), so a slow reader pauses its peer.
// Runs on its worker thread.
class SessionIo : private ReadListener {
 public:
  SessionIo(TransportPtr transport, std::string initial_bytes);
  virtual ~SessionIo() = default;

  // Reads and writes until the session has nothing more to do or the socket fails.
  asio::awaitable<void> runIo(std::shared_ptr<void> keep_alive);
  // Wakes the writer. With `now`, what nghttp2 has ready is also serialized into the writer's
  // buffer at once, while the frames' streams and bodies are still in cache; the socket write
  // still waits for the writer, once per turn of the loop. Not from inside nghttp2's callbacks
  // or while a write is in flight, where it only wakes the writer.
  void wantWrite(bool now = false);
  void closeSocket();
  bool socketOpen() const { return open(); }

 protected:
  // Creates the session with the options both sides share, for `user` (the codec object the
  // callbacks cast back to), and queues our SETTINGS and connection window.
  void createSession(const nghttp2_session_callbacks* callbacks, bool server, void* user,
                     const Limits& limits, std::initializer_list<nghttp2_settings_entry> settings);
  // Called after a read was fed to nghttp2, and when the connection ends.
  virtual void onIoClosed() = 0;

  bool open() const { return transport_->isOpen(); }

  TransportPtr transport_;
  asio::any_io_executor executor_;
  std::string initial_bytes_;
  SessionPtr session_;
  Event write_event_;
  Event read_event_;
  asio::steady_timer write_timer_;
  std::string peer_;
  bool read_done_ = false;
  bool io_closed_ = false;
  Millis write_timeout_{300000};
  // Read once per batch of frames read or written, for the codecs' activity stamps: a clock
  // read per frame would cost more than the precision is worth.
  std::chrono::steady_clock::time_point io_now_ = std::chrono::steady_clock::now();

 private:
  // Feeds received bytes to nghttp2; false when the connection must end.
  bool feed(const char* data, size_t len);
  // Appends what nghttp2 has to send to out_, up to kSerializeAhead bytes; false when the
  // session failed.
  bool serialize();

  // Plain TCP is read with a completion handler, one read in flight at a time, which is
  // cheaper to run than a coroutine to resume; TLS goes through its transport's coroutine
  // (readLoop). Both start with startReading and end with readStopped.
  bool startReading();
  void readNext(std::shared_ptr<void> keep_alive);
  void readDone(std::error_code ec, const char* data, size_t n,
                std::shared_ptr<void> keep_alive) override;
  void readStopped();
  asio::awaitable<void> readLoop();
  asio::awaitable<void> writeLoop();

  TcpReader reader_;            // plain TCP only
  std::string out_;             // serialized, not yet written
  bool in_session_ = false;     // inside nghttp2_session_mem_recv or _mem_send
  bool write_pending_ = false;  // a write of out_ waits for the socket
  bool send_failed_ = false;
};

void applyCommonOptions(nghttp2_option* option, const Limits& limits);

}  // namespace meshnode::proxy::http2
