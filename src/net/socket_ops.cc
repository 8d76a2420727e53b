#include "net/socket_ops.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace torii::net {

bool make_sockaddr(const std::string& ip, uint16_t port, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof(out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  std::string bare = ip;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  if (inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

UniqueFd bind_tcp(const std::string& ip, uint16_t port, bool reuse_port, std::string& error) {
  sockaddr_storage addr;
  socklen_t len;
  if (!make_sockaddr(ip, port, addr, len)) {
    error = "bind address '" + ip + "' is not a numeric IP address";
    return {};
  }
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    error = std::string("SO_REUSEPORT: ") + std::strerror(errno);
    return {};
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    error = "bind " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno);
    return {};
  }
  return fd;
}

UniqueFd listen_tcp(const std::string& ip, uint16_t port, bool reuse_port, int backlog, std::string& error) {
  UniqueFd fd = bind_tcp(ip, port, reuse_port, error);
  if (!fd.valid()) return {};
  if (::listen(fd.get(), backlog) != 0) {
    error = "listen " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno);
    return {};
  }
  // Accepted sockets inherit TCP_NODELAY from the listener (Linux), which
  // saves a setsockopt() per connection (issue 17: a new connection per request).
  set_tcp_nodelay(fd.get());
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

bool local_address(int fd, sockaddr_storage& out) {
  socklen_t len = sizeof(out);
  return getsockname(fd, reinterpret_cast<sockaddr*>(&out), &len) == 0;
}

std::string address_with_port(const std::string& ip, uint16_t port) {
  const bool v6 = ip.find(':') != std::string::npos && ip.front() != '[';
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

UniqueFd connect_tcp(const sockaddr* addr, socklen_t len, int& error_no) {
  error_no = 0;
  UniqueFd fd(::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error_no = errno;
    return {};
  }
  set_tcp_nodelay(fd.get());
  int rc;
  do {
    rc = ::connect(fd.get(), addr, len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    error_no = errno;
    return {};
  }
  return fd;
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

void set_tcp_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

namespace {

// Dotted decimal of an IPv4 address in network order. inet_ntop() formats
// with sprintf, which was visible in the profile of a new connection per
// request (issue 17: this runs once per accepted connection).
std::string ipv4_text(const in_addr& address) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(&address.s_addr);
  char text[INET_ADDRSTRLEN];
  char* out = text;
  for (int i = 0; i < 4; ++i) {
    if (i != 0) *out++ = '.';
    out = std::to_chars(out, text + sizeof text, bytes[i]).ptr;
  }
  return std::string(text, static_cast<size_t>(out - text));
}

}  // namespace

std::string ip_to_string(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    return ipv4_text(reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr);
  } else if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    // An IPv4 client on a dual-stack socket: report it as plain IPv4.
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      in_addr v4;
      std::memcpy(&v4, &v6->sin6_addr.s6_addr[12], sizeof v4);
      return ipv4_text(v4);
    }
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  }
  return text;
}

}  // namespace torii::net
