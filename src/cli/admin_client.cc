#include "cli/admin_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "net/socket_ops.h"

namespace torii::cli {

namespace {

// Connects with a deadline (a non-blocking connect and poll), then makes the
// socket blocking with send/receive timeouts.
bool connect_with_timeout(const std::string& host, uint16_t port, int timeout_ms, net::UniqueFd& fd,
                          std::string& error) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!net::make_sockaddr(host, port, addr, len)) {
    error = "'" + host + "' is not an IP address";
    return false;
  }
  int error_no = 0;
  fd = net::connect_tcp(reinterpret_cast<const sockaddr*>(&addr), len, error_no);
  if (!fd.valid()) {
    error = std::strerror(error_no);
    return false;
  }
  pollfd p = {fd.get(), POLLOUT, 0};
  int rc = 0;
  do {
    rc = poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    error = "connect timed out";
    return false;
  }
  if (int so_error = net::socket_error(fd.get()); rc < 0 || so_error != 0) {
    error = std::strerror(rc < 0 ? errno : so_error);
    return false;
  }
  fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return true;
}

}  // namespace

bool admin_get(const std::string& host, uint16_t port, const std::string& target, AdminReply& reply,
               std::string& error, int timeout_ms) {
  net::UniqueFd fd;
  if (!connect_with_timeout(host, port, timeout_ms, fd, error)) return false;
  const std::string request = "GET " + target + " HTTP/1.1\r\nhost: " + net::address_with_port(host, port) +
                              "\r\nconnection: close\r\n\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("sending the request: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  while (true) {
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno == EAGAIN || errno == EWOULDBLOCK
                  ? std::string("no answer (timed out)")
                  : std::string("reading the answer: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = raw.find("\r\n\r\n");
  // "HTTP/1.1 200 OK": the status is the three digits after the first space.
  const size_t sp = raw.find(' ');
  if (head_end == std::string::npos || sp == std::string::npos || sp + 4 > head_end ||
      raw.compare(0, 5, "HTTP/") != 0) {
    error = "not an HTTP answer (is this Torii's admin endpoint?)";
    return false;
  }
  reply.status = std::atoi(raw.substr(sp + 1, 3).c_str());
  reply.body = raw.substr(head_end + 4);
  return true;
}

}  // namespace torii::cli
