// A real DNS server for the tests: dnsmasq on 127.0.0.1:<free port>, serving
// the names of a hosts file it re-reads on reload(), authoritative for
// *.example.test (unknown names there get NXDOMAIN), TTL as given.
#pragma once

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace torii::dns::testing {

inline uint16_t bound_port(int type, uint16_t port) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  uint16_t got = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    got = ntohs(a.sin_port);
  }
  ::close(fd);
  return got;
}

// A loopback port free for both UDP and TCP (dnsmasq binds both).
inline uint16_t free_udp_port() {
  for (int i = 0; i < 100; ++i) {
    const uint16_t port = bound_port(SOCK_DGRAM, 0);
    if (port != 0 && bound_port(SOCK_STREAM, port) == port) return port;
  }
  return 0;
}

class Dnsmasq {
 public:
  explicit Dnsmasq(uint32_t ttl_s) : port_(free_udp_port()) {
    char tmpl[] = "/tmp/torii-dnsmasq-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::permissions(dir_, std::filesystem::perms::all);  // dnsmasq may drop to nobody
    hosts_ = dir_ + "/hosts";
    write_hosts();
    std::vector<std::string> args = {"/usr/sbin/dnsmasq",
                                     "--keep-in-foreground",
                                     "--conf-file=/dev/null",
                                     "--listen-address=127.0.0.1",
                                     "--bind-interfaces",
                                     "--port=" + std::to_string(port_),
                                     "--no-resolv",
                                     "--no-hosts",
                                     "--addn-hosts=" + hosts_,
                                     "--local=/example.test/",
                                     "--local-ttl=" + std::to_string(ttl_s),
                                     "--pid-file=" + dir_ + "/pid",
                                     "--log-facility=" + dir_ + "/log"};
    if (::getuid() == 0) args.push_back("--user=root");
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // Signals sent before dnsmasq has set up would kill it: wait for its pid file.
    for (int i = 0; i < 100 && !std::filesystem::exists(dir_ + "/pid"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  ~Dnsmasq() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

  // name -> IPv4 addresses, served from now on.
  void set(const std::string& name, std::vector<std::string> addresses) {
    records_[name] = std::move(addresses);
    write_hosts();
  }
  void remove(const std::string& name) {
    records_.erase(name);
    write_hosts();
  }

 private:
  void write_hosts() const {
    std::ofstream out(hosts_, std::ios::trunc);
    for (const auto& [name, addresses] : records_) {
      for (const auto& a : addresses) out << a << ' ' << name << '\n';
    }
    out.close();
    if (pid_ > 0) ::kill(pid_, SIGHUP);  // dnsmasq re-reads --addn-hosts (and clears its cache)
  }

  uint16_t port_;
  std::string dir_;
  std::string hosts_;
  std::map<std::string, std::vector<std::string>> records_;
  pid_t pid_ = -1;
};

}  // namespace torii::dns::testing
