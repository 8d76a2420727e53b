// A listening-socket handler for pool tests: accepts connections and keeps
// them open (tests close them on demand).
#pragma once

#include <sys/socket.h>

#include <utility>
#include <vector>

#include "net/tcp_listener.h"
#include "net/unique_fd.h"

namespace torii::upstream::test_support {

struct Acceptor : net::AcceptHandler {
  std::vector<net::UniqueFd> accepted;
  void on_accept(net::UniqueFd fd, const sockaddr_storage&) override { accepted.push_back(std::move(fd)); }
};

}  // namespace torii::upstream::test_support
