// Zero-downtime binary upgrade (docs/upgrade.md): a new `torii run
// --takeover PATH` takes the listening sockets of the running process that
// listens on PATH (--upgrade-socket PATH), serves on them, then asks it to
// drain. The sockets themselves change hands (SCM_RIGHTS, net/fd_passing.h),
// as with Envoy's hot restart and HAProxy's `expose-fd listeners` / `-x`:
// no port is ever closed, and connections queued in the kernel's accept
// queues are accepted by the new process.
//
// The conversation, one SOCK_SEQPACKET message each:
//   new -> old  TAKEOVER <pid>
//   old -> new  LISTENER <bind> <configured port> <bound port> <name>   + its sockets
//               ... one per listener (a listener with more than
//               net::kMaxFdsPerMessage sockets takes several)
//               ADMIN <address> <configured port> <bound port>         + 1 socket
//               END <pid>
//   new -> old  DRAIN                 (once the new process serves)
//   old -> new  DRAINING <pid>        (it stopped accepting and removed PATH)
// A new process that goes away before DRAIN leaves the old one serving.
#pragma once

#include <string>
#include <vector>

#include "net/unique_fd.h"
#include "proxy/server.h"

namespace torii::admin {
class AdminServer;
}

namespace torii::cli {

// The running process's side: --upgrade-socket PATH. Control thread only.
class UpgradeSocket {
 public:
  ~UpgradeSocket();
  // Listens on `path` (replacing a stale socket file; not one that a
  // running process listens on).
  bool open(const std::string& path, std::string& error);
  // Stops listening and removes the path (if it is still this socket's).
  void close();
  int listen_fd() const { return listen_.get(); }
  // The connection of a takeover in progress, or -1.
  int peer_fd() const { return peer_.get(); }

  // listen_fd() is readable: accepts a takeover and sends it every socket.
  // One at a time: another arriving meanwhile is turned away.
  void on_connect(const proxy::Server& server, const admin::AdminServer* admin,
                  const std::string& admin_address, uint16_t admin_configured_port);
  // peer_fd() is readable. True when the new process asked this one to
  // drain (it was answered; the caller drains now). `new_pid`: who took over.
  bool on_peer_message(int& new_pid);

 private:
  std::string path_;
  net::UniqueFd listen_;
  net::UniqueFd peer_;
  int peer_pid_ = 0;
};

// The new process's side: --takeover PATH.
struct TakenOver {
  net::UniqueFd channel;
  int old_pid = 0;
  std::vector<proxy::ListenerSockets> listeners;
  net::UniqueFd admin;  // invalid: the old process had none
  std::string admin_address;
  uint32_t admin_configured_port = 0;
  uint16_t admin_bound_port = 0;
};

// Connects to `path` and receives the running process's sockets.
bool take_over(const std::string& path, TakenOver& out, std::string& error);
// Tells the old process to drain and waits for its answer.
bool ask_to_drain(TakenOver& taken, std::string& error);

}  // namespace torii::cli
