// File descriptors sent between processes over a Unix-domain socket
// (SCM_RIGHTS): the receiver gets new descriptors for the very same open
// files, e.g. listening sockets with their accept queues. Used by the hot
// upgrade (cli/upgrade.h), as Envoy's hot restart and HAProxy's
// `expose-fd listeners` pass listeners to the process that replaces them.
//
// Messages go over SOCK_SEQPACKET sockets: one send is one message, so a
// text line and the descriptors that belong to it arrive together.
#pragma once

#include <string>
#include <vector>

#include "net/unique_fd.h"

namespace torii::net {

// Most descriptors one message carries (the kernel's SCM_MAX_FD is 253).
constexpr size_t kMaxFdsPerMessage = 200;

// A SOCK_SEQPACKET socket listening on `path` (an existing file there is
// replaced: check first that nobody listens on it). Blocking, close-on-exec.
// Invalid fd + `error` on failure.
UniqueFd listen_unix(const std::string& path, std::string& error);
// Connects to `path`; invalid fd + `error` (naming the path) on failure.
UniqueFd connect_unix(const std::string& path, std::string& error);

// Sends `text` with `fds` (at most kMaxFdsPerMessage; not closed here).
bool send_message(int socket, const std::string& text, const std::vector<int>& fds, std::string& error);
// Receives one message: its text and descriptors (close-on-exec).
// `timeout_ms` < 0 waits forever. An orderly close by the peer: false with
// error "closed".
bool receive_message(int socket, std::string& text, std::vector<UniqueFd>& fds, int timeout_ms,
                     std::string& error);

}  // namespace torii::net
