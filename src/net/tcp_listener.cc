#include "net/tcp_listener.h"

#include <cerrno>

namespace torii::net {

namespace {
// How long to stop accepting after EMFILE/ENFILE/ENOMEM.
constexpr uint64_t kAcceptPauseMs = 100;
}  // namespace

TcpListener::TcpListener(EventLoop& loop, UniqueFd fd, AcceptHandler& handler)
    : loop_(loop),
      handler_(handler),
      watch_(loop, std::move(fd), EPOLLIN, *this),
      resume_timer_(loop, [this] { watch_.set_events(EPOLLIN); }) {}

// One connection per readiness event, as nginx does without multi_accept:
// the socket is level-triggered and this worker's own (SO_REUSEPORT), so a
// backlog reports again on the next epoll_wait, and no accept4() is spent
// on finding the queue empty (issue 17: that was 0.9 of a syscall per
// request with a new connection each).
void TcpListener::on_io(uint32_t /*events*/) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(watch_.fd(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      handler_.on_accept(UniqueFd(fd), peer);
      return;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
    return;  // EAGAIN or a persistent error
  }
}

TcpListener::~TcpListener() {
  // The listening socket has duplicates (the server keeps one to hand over
  // on an upgrade), so closing ours would leave it in this loop's epoll set:
  // a draining worker would then wake at once, for nothing, for as long as
  // connections queue on it. Unregister it explicitly.
  UniqueFd ours = watch_.release();
}

void TcpListener::pause_accepting() {
  watch_.set_events(0);
  resume_timer_.arm(kAcceptPauseMs);
}

}  // namespace torii::net
