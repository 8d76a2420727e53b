// A real DNS server for the tests: dnsmasq on 127.0.0.1:<reserved port>, serving
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

#include "reserved_ports.h"

namespace torii::dns::testing {

class Dnsmasq {
 public:
  explicit Dnsmasq(uint32_t ttl_s) : port_(torii::testing::reserve_port()) {
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
    // Signals sent before dnsmasq has set up would kill it: wait for its pid
    // file; it serves once its sockets hold the port. 10 s: a loaded machine.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((!std::filesystem::exists(dir_ + "/pid") || torii::testing::port_is_bindable(port_)) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
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
