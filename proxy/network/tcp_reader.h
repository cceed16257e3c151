#pragma once

#include <cstddef>
#include <memory>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

// After asio's public headers, which its reactor headers assume.
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>

#include "proxy/network/transport.h"

namespace meshnode::proxy {

// Told when a read of a TcpReader completes.
class ReadListener {
 public:
  // `n` bytes arrived at `data`, or `ec` says why none will (asio::error::eof when the peer
  // finished sending, operation_aborted when the socket was closed). The bytes are the
  // reader's and valid only during the call. `keep_alive` is the read's, for the next read to
  // take over.
  virtual void readDone(std::error_code ec, const char* data, size_t n,
                        std::shared_ptr<void> keep_alive) = 0;

 protected:
  ~ReadListener() = default;
};

// Reads a plain TCP socket one read at a time, through the socket's event loop, without
// allocating. It differs from socket.async_read_some in one respect: a read that takes less
// than its buffer has emptied the socket, and the next read waits for readiness instead of
// trying the socket first. asio itself only concludes that at end of stream, so with its own
// reads every message costs a second recv that finds EAGAIN.
//
// Readiness that arrives while no read is pending makes the next read try the socket first,
// so nothing is missed whatever the gap between reads. Built on asio's reactor interface
// (asio 1.22, epoll), which Debian's asio package fixes.
//
// The bytes land in a buffer the thread's readers share, held from the read until the listener
// has seen them. The event loop completes a descriptor's read straight after performing it, so
// one buffer nearly always serves every connection of the thread and stays in cache; a buffer
// per connection would put the same bytes on as many cold cache lines, and a page of memory,
// per connection held.
class TcpReader {
 public:
  TcpReader();
  TcpReader(const TcpReader&) = delete;
  TcpReader& operator=(const TcpReader&) = delete;

  // Starts a read of up to `max` bytes (at most kReadChunk). `keep_alive` is held until
  // `listener` is told and should own the listener and this reader; it is dropped untold when
  // the event loop shuts down first. One read at a time.
  void read(asio::ip::tcp::socket& socket, ReadListener& listener, std::shared_ptr<void> keep_alive,
            size_t max = kReadChunk);

 private:
  class Op : public asio::detail::reactor_op {
   public:
    Op();
    int fd = -1;
    size_t max = 0;
    std::unique_ptr<char[]> data;  // from the thread's buffers, while a read holds one
    ReadListener* listener = nullptr;
    std::shared_ptr<void> keep_alive;

   private:
    static status perform(asio::detail::reactor_op* base);
    static void complete(void* owner, asio::detail::scheduler_operation* base,
                         const std::error_code&, size_t);
  };
  Op op_;
  asio::detail::reactor* reactor_ = nullptr;  // the socket's event loop's, looked up once
};

}  // namespace meshnode::proxy
