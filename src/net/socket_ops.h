// Thin, error-returning wrappers over the socket calls the data plane uses.
// Every socket is created non-blocking and close-on-exec.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "net/unique_fd.h"

namespace torii::net {

// Parses a numeric IPv4/IPv6 address ("0.0.0.0", "::", "127.0.0.1") and port.
bool make_sockaddr(const std::string& ip, uint16_t port, sockaddr_storage& out, socklen_t& len);

// A TCP socket bound to ip:port (SO_REUSEADDR, and SO_REUSEPORT when
// `reuse_port`), not listening. Kept open with SO_REUSEPORT, it holds the
// port: connections to it are refused, and no other bind() nor outgoing
// connection can take it, yet this process's listeners can still join it.
UniqueFd bind_tcp(const std::string& ip, uint16_t port, bool reuse_port, std::string& error);

// A listening TCP socket bound to ip:port with SO_REUSEADDR and, when
// `reuse_port`, SO_REUSEPORT (so every worker can bind its own socket to the
// same address and the kernel spreads connections across them), and
// TCP_NODELAY, which the sockets it accepts inherit.
// On failure returns an invalid fd and sets `error`.
UniqueFd listen_tcp(const std::string& ip, uint16_t port, bool reuse_port, int backlog, std::string& error);

// The port a bound socket actually got (for port 0).
uint16_t local_port(int fd);

// The local address of a socket (getsockname); false on error.
bool local_address(int fd, sockaddr_storage& out);

// "1.2.3.4:80", or "[::1]:80" for an IPv6 address (how Envoy prints addresses).
std::string address_with_port(const std::string& ip, uint16_t port);

// Starts a non-blocking connect. Returns the socket (connection in
// progress or done) or an invalid fd with `error_no` set.
UniqueFd connect_tcp(const sockaddr* addr, socklen_t len, int& error_no);

// SO_ERROR of a socket (0 once a non-blocking connect succeeded).
int socket_error(int fd);

void set_tcp_nodelay(int fd);

// "1.2.3.4" / "::1" for an accepted peer address.
std::string ip_to_string(const sockaddr_storage& addr);

}  // namespace torii::net
