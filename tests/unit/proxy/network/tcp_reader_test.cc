#include "proxy/network/tcp_reader.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <gtest/gtest.h>

namespace meshnode::proxy {
namespace {

using asio::ip::tcp;

// A reader on one end of a loopback connection, recording what each read brought.
struct Reading final : ReadListener, std::enable_shared_from_this<Reading> {
  tcp::socket socket;
  TcpReader reader;
  size_t max = 8;
  std::string got;
  std::optional<std::error_code> error;
  int reads_done = 0;

  explicit Reading(tcp::socket s) : socket(std::move(s)) {}

  void start() { reader.read(socket, *this, shared_from_this(), max); }
  void readDone(std::error_code ec, const char* data, size_t n, std::shared_ptr<void>) override {
    ++reads_done;
    if (ec) {
      error = ec;
      return;
    }
    got.append(data, n);
  }
};

struct Loopback {
  asio::io_context io;
  tcp::socket peer{io};
  std::shared_ptr<Reading> reading;

  Loopback() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    peer.connect(acceptor.local_endpoint());
    reading = std::make_shared<Reading>(acceptor.accept());
  }
  void send(const std::string& s) { asio::write(peer, asio::buffer(s)); }
  // Runs the loop until `n` reads have completed (or a second passes).
  void runUntilReads(int n) {
    io.restart();  // the loop stops whenever it runs out of work
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (reading->reads_done < n && std::chrono::steady_clock::now() < until)
      io.run_one_for(std::chrono::milliseconds(10));
  }
};

TEST(TcpReaderTest, ReadsWhatThePeerSends) {
  Loopback l;
  l.reading->start();
  l.send("hello");
  l.runUntilReads(1);
  EXPECT_EQ(l.reading->got, "hello");
}

TEST(TcpReaderTest, ABufferFullIsFollowedByTheRest) {
  Loopback l;
  l.reading->start();
  l.io.poll();              // the read waits
  l.send("0123456789abc");  // more than the 8-byte buffer, in one go
  l.runUntilReads(1);
  EXPECT_EQ(l.reading->got, "01234567");
  l.reading->start();
  l.runUntilReads(2);
  EXPECT_EQ(l.reading->got, "0123456789abc");
}

// After a read that emptied the socket, the next read waits for readiness without trying the
// socket. Bytes that arrive while no read is pending must still be found.
TEST(TcpReaderTest, BytesArrivingWhileNoReadIsPendingAreFound) {
  Loopback l;
  l.reading->start();
  l.send("a");
  l.runUntilReads(1);
  ASSERT_EQ(l.reading->got, "a");
  l.send("b");
  // The loop waits on a timer meanwhile, and so sees the socket become readable with no read
  // pending.
  asio::steady_timer timer(l.io, std::chrono::milliseconds(50));
  bool fired = false;
  timer.async_wait([&](std::error_code) { fired = true; });
  l.io.restart();
  while (!fired)
    l.io.run_one();
  l.reading->start();
  l.runUntilReads(2);
  EXPECT_EQ(l.reading->got, "ab");
}

TEST(TcpReaderTest, BytesArrivingAfterAnEmptyingReadAreFound) {
  Loopback l;
  l.reading->start();
  l.send("a");
  l.runUntilReads(1);
  l.reading->start();  // the socket is known empty: this read waits
  l.io.restart();
  l.io.poll();
  l.send("b");
  l.runUntilReads(2);
  EXPECT_EQ(l.reading->got, "ab");
}

// The readers of a thread share their buffers: what one connection read must reach its own
// listener intact when several sockets become readable in the same turn of the loop, and when
// a read started on a readable socket completes later through the queue.
TEST(TcpReaderTest, ReadersSharingBuffersEachGetTheirOwnBytes) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  std::vector<tcp::socket> peers;
  std::vector<std::shared_ptr<Reading>> readings;
  for (int i = 0; i < 4; ++i) {
    peers.emplace_back(io);
    peers.back().connect(acceptor.local_endpoint());
    readings.push_back(std::make_shared<Reading>(acceptor.accept()));
    readings.back()->max = kReadChunk;
  }
  // Two wait with no bytes yet, two find theirs at once when they start.
  readings[0]->start();
  readings[1]->start();
  io.poll();
  for (size_t i = 0; i < peers.size(); ++i)
    asio::write(peers[i], asio::buffer(std::string(100 + i, static_cast<char>('a' + i))));
  readings[2]->start();
  readings[3]->start();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  auto all_read = [&] {
    for (const auto& r : readings)
      if (r->reads_done < 1) return false;
    return true;
  };
  while (!all_read() && std::chrono::steady_clock::now() < until)
    io.run_one_for(std::chrono::milliseconds(10));
  for (size_t i = 0; i < readings.size(); ++i)
    EXPECT_EQ(readings[i]->got, std::string(100 + i, static_cast<char>('a' + i))) << "reader " << i;
}

TEST(TcpReaderTest, EndOfStreamIsReported) {
  Loopback l;
  l.reading->start();
  l.send("x");
  l.runUntilReads(1);
  l.reading->start();
  l.peer.close();
  l.runUntilReads(2);
  ASSERT_TRUE(l.reading->error);
  EXPECT_EQ(*l.reading->error, asio::error::eof);
  EXPECT_EQ(l.reading->got, "x");
}

TEST(TcpReaderTest, ClosingTheSocketAbortsThePendingRead) {
  Loopback l;
  l.reading->start();
  l.io.poll();
  l.reading->socket.close();
  l.runUntilReads(1);
  ASSERT_TRUE(l.reading->error);
  EXPECT_EQ(*l.reading->error, asio::error::operation_aborted);
}

TEST(TcpReaderTest, APendingReadLetsGoOfItsOwnerWhenTheLoopGoes) {
  std::weak_ptr<Reading> weak;
  {
    Loopback l;
    l.reading->start();
    l.io.poll();
    weak = l.reading;
    l.reading.reset();
    EXPECT_FALSE(weak.expired());  // the pending read holds it
  }
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace meshnode::proxy
