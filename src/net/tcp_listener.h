// A listening socket on one worker's loop. Accepts one connection per
// readiness event and hands it to an AcceptHandler. Level-triggered, so the
// others pending are reported again; when the process runs out of
// descriptors, accepting pauses briefly instead of spinning.
//
// Owned by the worker that accepts on it; loop thread only.
#pragma once

#include <sys/socket.h>

#include "net/event_loop.h"
#include "net/timer.h"
#include "net/unique_fd.h"

namespace torii::net {

class AcceptHandler {
 public:
  virtual void on_accept(UniqueFd fd, const sockaddr_storage& peer) = 0;
  virtual ~AcceptHandler() = default;
};

class TcpListener final : public IoHandler {
 public:
  TcpListener(EventLoop& loop, UniqueFd fd, AcceptHandler& handler);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  int fd() const { return watch_.fd(); }
  void on_io(uint32_t events) override;

 private:
  void pause_accepting();

  EventLoop& loop_;
  AcceptHandler& handler_;
  IoWatch watch_;
  Timer resume_timer_;
};

}  // namespace torii::net
