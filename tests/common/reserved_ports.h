// Ports for servers a test starts later (dnsmasq) and for ports nothing may
// listen on: the C++ twin of tests/e2e/reserved_ports.py, same lock file,
// same pool, same rules; read that file's comment for why.
//
// In short: a port taken with bind(0) and closed again is in the kernel's
// ephemeral range, where any outgoing connection (another test under
// `ctest -j2`) can take it before the server binds it. reserve_port() returns
// a port outside that range that no other test process holds (a write lock on
// byte <port> of kLockFile, held until this process exits) and that nothing
// is bound to, TCP or UDP. A socket bound to port 0 and kept open needs none
// of this: nothing can take a port while it is bound.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace torii::testing {

inline constexpr const char* kPortLockFile = "/tmp/torii-test-ports.lock";
inline constexpr int kLowestReservedPort = 10000;

// True if `port` can be bound on 0.0.0.0 now, TCP (with SO_REUSEADDR, as
// servers bind: TIME_WAIT does not count) and UDP.
inline bool port_is_bindable(uint16_t port) {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    if (type == SOCK_STREAM) {
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

inline uint16_t reserve_port() {
  static std::mutex mutex;
  static int lock_fd = -1;  // never closed: that would drop every lock this process holds on the file
  static std::set<uint16_t> held;
  std::lock_guard<std::mutex> guard(mutex);
  if (lock_fd < 0) {
    lock_fd = ::open(kPortLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock_fd < 0) throw std::runtime_error(std::string("reserve_port: cannot open ") + kPortLockFile);
    ::fchmod(lock_fd, 0666);  // other users' test runs lock it too
  }
  int low = 32768, high = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  std::vector<uint16_t> pool;
  for (int p = kLowestReservedPort; p <= 65535; ++p) {
    if (p < low || p > high) pool.push_back(static_cast<uint16_t>(p));
  }
  if (pool.empty()) {
    for (int p = kLowestReservedPort; p <= 65535; ++p) pool.push_back(static_cast<uint16_t>(p));
  }
  const size_t start = std::random_device{}() % pool.size();
  for (size_t i = 0; i < pool.size(); ++i) {
    const uint16_t port = pool[(start + i) % pool.size()];
    if (held.count(port) != 0) continue;  // record locks are per process: ours would succeed again
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = port;
    lock.l_len = 1;
    if (::fcntl(lock_fd, F_SETLK, &lock) != 0) continue;  // another test process holds it
    if (!port_is_bindable(port)) {
      lock.l_type = F_UNLCK;
      ::fcntl(lock_fd, F_SETLK, &lock);
      continue;
    }
    held.insert(port);
    return port;
  }
  throw std::runtime_error("reserve_port: no port left outside the ephemeral range");
}

}  // namespace torii::testing
