#include "proxy/network/tcp_reader.h"

#include <algorithm>
#include <vector>

#include <asio/detail/socket_ops.hpp>
#include <asio/execution/context.hpp>
#include <asio/query.hpp>

namespace meshnode::proxy {
namespace {

// The socket's implementation (descriptor, state and reactor registration) is a protected
// member of asio's socket; a pointer to it may be named through a derived class.
struct SocketAccess : asio::ip::tcp::socket {
  static auto& implementation(asio::ip::tcp::socket& socket) {
    return (socket.*(&SocketAccess::impl_)).get_implementation();
  }
};

// The thread's free read buffers, newest last: the one given back last is the one in cache.
// A few are kept for reads completed later than they were performed (a read tried at once
// when it starts completes through the queue); the rest go back to malloc.
constexpr size_t kBuffersKept = 8;
thread_local std::vector<std::unique_ptr<char[]>> free_buffers;

std::unique_ptr<char[]> takeBuffer() {
  if (free_buffers.empty()) return std::make_unique_for_overwrite<char[]>(kReadChunk);
  auto b = std::move(free_buffers.back());
  free_buffers.pop_back();
  return b;
}

void giveBuffer(std::unique_ptr<char[]> b) {
  if (b && free_buffers.size() < kBuffersKept) free_buffers.push_back(std::move(b));
}

}  // namespace

TcpReader::TcpReader() = default;

TcpReader::Op::Op() : asio::detail::reactor_op(std::error_code(), &Op::perform, &Op::complete) {}

asio::detail::reactor_op::status TcpReader::Op::perform(asio::detail::reactor_op* base) {
  auto* op = static_cast<Op*>(base);
  op->data = takeBuffer();
  if (!asio::detail::socket_ops::non_blocking_recv1(op->fd, op->data.get(), op->max, 0,
                                                    /*is_stream=*/true, op->ec_,
                                                    op->bytes_transferred_)) {
    giveBuffer(std::move(op->data));
    return not_done;
  }
  // Short of the buffer means the socket is empty: the reactor then waits for the next edge
  // instead of letting the next read try first.
  return op->bytes_transferred_ < op->max ? done_and_exhausted : done;
}

void TcpReader::Op::complete(void* owner, asio::detail::scheduler_operation* base,
                             const std::error_code&, size_t) {
  auto* op = static_cast<Op*>(base);
  // The last reference may own this operation, and the listener may start the next read on
  // it: nothing of it is touched after the call.
  std::shared_ptr<void> keep_alive = std::move(op->keep_alive);
  std::unique_ptr<char[]> data = std::move(op->data);
  if (!owner) return;  // the loop is going; so may the thread's buffers be
  op->listener->readDone(op->ec_, data.get(), op->bytes_transferred_, std::move(keep_alive));
  giveBuffer(std::move(data));
}

void TcpReader::read(asio::ip::tcp::socket& socket, ReadListener& listener,
                     std::shared_ptr<void> keep_alive, size_t max) {
  std::error_code ec;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  auto& impl = SocketAccess::implementation(socket);
  op_.fd = impl.socket_;
  op_.max = std::min(max, kReadChunk);
  op_.listener = &listener;
  op_.keep_alive = std::move(keep_alive);
  op_.ec_ = ec;
  op_.bytes_transferred_ = 0;
  if (!reactor_)
    reactor_ = &asio::use_service<asio::detail::reactor>(
        asio::query(socket.get_executor(), asio::execution::context));
  if (ec) {
    reactor_->post_immediate_completion(&op_, false);
    return;
  }
  reactor_->start_op(asio::detail::reactor::read_op, impl.socket_, impl.reactor_data_, &op_,
                     /*is_continuation=*/false, /*allow_speculative=*/true);
}

}  // namespace meshnode::proxy
