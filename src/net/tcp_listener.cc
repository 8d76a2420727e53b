#include "net/tcp_listener.h"

#include <cerrno>

namespace torii::net {

namespace {
// Connections accepted per readiness event before yielding to other work.
constexpr int kAcceptBatch = 64;
// How long to stop accepting after EMFILE/ENFILE/ENOMEM.
constexpr uint64_t kAcceptPauseMs = 100;
}  // namespace

TcpListener::TcpListener(EventLoop& loop, UniqueFd fd, AcceptHandler& handler)
    : loop_(loop),
      handler_(handler),
      watch_(loop, std::move(fd), EPOLLIN, *this),
      resume_timer_(loop, [this] { watch_.set_events(EPOLLIN); }) {}

void TcpListener::on_io(uint32_t /*events*/) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(watch_.fd(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
      return;  // EAGAIN or a persistent error
    }
    handler_.on_accept(UniqueFd(fd), peer);
  }
}

void TcpListener::pause_accepting() {
  watch_.set_events(0);
  resume_timer_.arm(kAcceptPauseMs);
}

}  // namespace torii::net
