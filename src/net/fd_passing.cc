#include "net/fd_passing.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace torii::net {

namespace {

constexpr size_t kMaxText = 64 * 1024;

bool make_address(const std::string& path, sockaddr_un& addr, std::string& error) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    error = "'" + path + "': a Unix socket path must be 1 to " + std::to_string(sizeof(addr.sun_path) - 1) +
            " bytes long";
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

UniqueFd listen_unix(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  if (!make_address(path, addr, error)) return {};
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error = "socket: " + std::string(std::strerror(errno));
    return {};
  }
  ::unlink(path.c_str());  // a socket file left by a process that is gone
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd.get(), 4) != 0) {
    error = "'" + path + "': " + std::strerror(errno);
    return {};
  }
  return fd;
}

UniqueFd connect_unix(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  if (!make_address(path, addr, error)) return {};
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error = "socket: " + std::string(std::strerror(errno));
    return {};
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = "'" + path + "': " + std::strerror(errno);
    return {};
  }
  return fd;
}

bool send_message(int socket, const std::string& text, const std::vector<int>& fds, std::string& error) {
  if (fds.size() > kMaxFdsPerMessage) {
    error = "too many descriptors for one message";
    return false;
  }
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    error = std::strerror(errno);
    return false;
  }
}

bool receive_message(int socket, std::string& text, std::vector<UniqueFd>& fds, int timeout_ms,
                     std::string& error) {
  text.clear();
  fds.clear();
  pollfd p{socket, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) break;
    if (n == 0) {
      error = "no answer within " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    if (errno != EINTR) {
      error = std::strerror(errno);
      return false;
    }
  }
  text.resize(kMaxText);
  iovec iov{text.data(), text.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  // Descriptors first: they are ours now, whatever else went wrong.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (n < 0) {
    error = std::strerror(errno);
    return false;
  }
  if (n == 0) {
    error = "closed";
    return false;
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    error = "message truncated";
    return false;
  }
  text.resize(static_cast<size_t>(n));
  return true;
}

}  // namespace torii::net
