#include "proxy/network/socket_options.h"

#include <cstring>

#include <netinet/in.h>
#include <sys/socket.h>

namespace meshnode::proxy {
namespace {

// From linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h, whose headers clash with
// the C library's.
constexpr int kSoOriginalDst = 80;
constexpr int kIp6tSoOriginalDst = 80;

}  // namespace

std::optional<asio::ip::tcp::endpoint> originalDestination(asio::ip::tcp::socket& socket) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int fd = socket.native_handle();
  std::error_code ec;
  auto local = socket.local_endpoint(ec);
  if (ec) return std::nullopt;
  int rc = local.address().is_v6() && !local.address().to_v6().is_v4_mapped()
               ? getsockopt(fd, SOL_IPV6, kIp6tSoOriginalDst, &ss, &len)
               : getsockopt(fd, SOL_IP, kSoOriginalDst, &ss, &len);
  if (rc != 0) return std::nullopt;
  asio::ip::tcp::endpoint ep;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &ss, sizeof(sin));
    asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), &sin.sin_addr, 4);
    ep = asio::ip::tcp::endpoint(asio::ip::address_v4(b), ntohs(sin.sin_port));
  } else if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &ss, sizeof(sin6));
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), &sin6.sin6_addr, 16);
    ep = asio::ip::tcp::endpoint(asio::ip::address_v6(b), ntohs(sin6.sin6_port));
  } else {
    return std::nullopt;
  }
  // Without a REDIRECT the kernel reports the address the client dialled, which is ours.
  if (ep == local) return std::nullopt;
  return ep;
}

bool setReusePort(asio::ip::tcp::acceptor& acceptor) {
  int one = 1;
  return setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0;
}

std::string toString(const asio::ip::tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6())
    return "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port());
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace meshnode::proxy
