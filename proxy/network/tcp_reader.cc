#include "proxy/network/tcp_reader.h"

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

}  // namespace

TcpReader::TcpReader() = default;

TcpReader::Op::Op() : asio::detail::reactor_op(std::error_code(), &Op::perform, &Op::complete) {}

asio::detail::reactor_op::status TcpReader::Op::perform(asio::detail::reactor_op* base) {
  auto* op = static_cast<Op*>(base);
  if (!asio::detail::socket_ops::non_blocking_recv1(op->fd, op->buffer.data(), op->buffer.size(), 0,
                                                    /*is_stream=*/true, op->ec_,
                                                    op->bytes_transferred_))
    return not_done;
  // Short of the buffer means the socket is empty: the reactor then waits for the next edge
  // instead of letting the next read try first.
  return op->bytes_transferred_ < op->buffer.size() ? done_and_exhausted : done;
}

void TcpReader::Op::complete(void* owner, asio::detail::scheduler_operation* base,
                             const std::error_code&, size_t) {
  auto* op = static_cast<Op*>(base);
  // The last reference may own this operation: nothing of it is touched after the release.
  std::shared_ptr<void> keep_alive = std::move(op->keep_alive);
  if (owner) op->listener->readDone(op->ec_, op->bytes_transferred_, std::move(keep_alive));
}

void TcpReader::read(asio::ip::tcp::socket& socket, asio::mutable_buffer buffer,
                     ReadListener& listener, std::shared_ptr<void> keep_alive) {
  std::error_code ec;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  auto& impl = SocketAccess::implementation(socket);
  op_.fd = impl.socket_;
  op_.buffer = buffer;
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
