#include "cli/upgrade.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <sstream>

#include "admin/admin_server.h"
#include "cli/log.h"
#include "net/fd_passing.h"

namespace torii::cli {

namespace {

// How long either side waits for the other's next message: both answer at
// once; only a hung peer takes this long.
constexpr int kReplyTimeoutMs = 10000;

bool parse_number(const std::string& s, uint64_t max, uint64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && out <= max;
}

bool send_text(int fd, const std::string& text, std::string& error) {
  return net::send_message(fd, text, {}, error);
}

}  // namespace

UpgradeSocket::~UpgradeSocket() { close(); }

bool UpgradeSocket::open(const std::string& path, std::string& error) {
  // A socket file there may be a stale one (replaced), or a running
  // process's: then this one must not steal its path.
  if (net::connect_unix(path, error).valid()) {
    error = "--upgrade-socket '" + path + "': a running process listens there (to replace it: --takeover " +
            path + ")";
    return false;
  }
  listen_ = net::listen_unix(path, error);
  if (!listen_.valid()) {
    error = "--upgrade-socket " + error;
    return false;
  }
  path_ = path;
  return true;
}

void UpgradeSocket::close() {
  if (!listen_.valid()) return;
  // Remove the path only while it is still ours: a process started since
  // may have put its own socket there.
  struct stat by_path {};
  struct stat ours {};
  if (::stat(path_.c_str(), &by_path) == 0 && ::fstat(listen_.get(), &ours) == 0 &&
      by_path.st_ino == ours.st_ino && by_path.st_dev == ours.st_dev) {
    ::unlink(path_.c_str());
  }
  listen_.reset();
  peer_.reset();
}

void UpgradeSocket::on_connect(const proxy::Server& server, const admin::AdminServer* admin,
                               const std::string& admin_address, uint16_t admin_configured_port) {
  net::UniqueFd peer(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!peer.valid()) return;
  if (peer_.valid()) {
    log_error("upgrade socket: a takeover is already in progress (pid " + std::to_string(peer_pid_) +
              "); turning another one away");
    return;
  }
  std::string text, error;
  std::vector<net::UniqueFd> none;
  uint64_t pid = 0;
  if (!net::receive_message(peer.get(), text, none, kReplyTimeoutMs, error) ||
      text.rfind("TAKEOVER ", 0) != 0 || !parse_number(text.substr(9), 1u << 30, pid)) {
    log_error("upgrade socket: not a takeover request (" + (error.empty() ? "'" + text + "'" : error) + ")");
    return;
  }
  std::vector<proxy::ListenerSockets> listeners = server.export_listeners(error);
  bool ok = error.empty();
  for (const proxy::ListenerSockets& l : listeners) {
    for (size_t first = 0; ok && first < l.sockets.size(); first += net::kMaxFdsPerMessage) {
      std::vector<int> fds;
      for (size_t i = first; i < l.sockets.size() && fds.size() < net::kMaxFdsPerMessage; ++i)
        fds.push_back(l.sockets[i].get());
      ok = net::send_message(peer.get(),
                             "LISTENER " + l.bind + " " + std::to_string(l.configured_port) + " " +
                                 std::to_string(l.bound_port) + " " + l.name,
                             fds, error);
    }
  }
  if (ok && admin != nullptr && admin->listen_fd() >= 0) {
    ok = net::send_message(peer.get(),
                           "ADMIN " + admin_address + " " + std::to_string(admin_configured_port) + " " +
                               std::to_string(admin->port()),
                           {admin->listen_fd()}, error);
  }
  if (ok) ok = send_text(peer.get(), "END " + std::to_string(::getpid()), error);
  if (!ok) {
    log_error("upgrade socket: sending the sockets to pid " + std::to_string(pid) + ": " + error);
    return;
  }
  log_info("upgrade: pid " + std::to_string(pid) + " took a copy of " + std::to_string(listeners.size()) +
           " listener(s)" + (admin != nullptr ? " and the admin endpoint" : "") +
           "; serving until it asks this process to drain");
  peer_ = std::move(peer);
  peer_pid_ = static_cast<int>(pid);
}

bool UpgradeSocket::on_peer_message(int& new_pid) {
  std::string text, error;
  std::vector<net::UniqueFd> none;
  const bool got = net::receive_message(peer_.get(), text, none, 0, error);
  if (got && text == "DRAIN") {
    new_pid = peer_pid_;
    // No second takeover of a process that is leaving; the path is free for
    // the new process's own --upgrade-socket once it reads the answer.
    net::UniqueFd peer = std::move(peer_);
    close();
    if (!send_text(peer.get(), "DRAINING " + std::to_string(::getpid()), error))
      log_error("upgrade: answering pid " + std::to_string(new_pid) + ": " + error);
    return true;
  }
  log_error("upgrade: pid " + std::to_string(peer_pid_) +
            " went away before it asked this process to drain (" + (got ? "'" + text + "'" : error) +
            "); still serving");
  peer_.reset();
  return false;
}

bool take_over(const std::string& path, TakenOver& out, std::string& error) {
  out.channel = net::connect_unix(path, error);
  if (!out.channel.valid()) {
    error = "--takeover: cannot reach a running torii at " + error +
            " (is one running with --upgrade-socket " + path + "?)";
    return false;
  }
  if (!send_text(out.channel.get(), "TAKEOVER " + std::to_string(::getpid()), error)) {
    error = "--takeover " + path + ": " + error;
    return false;
  }
  for (;;) {
    std::string text;
    std::vector<net::UniqueFd> fds;
    if (!net::receive_message(out.channel.get(), text, fds, kReplyTimeoutMs, error)) {
      error = "--takeover " + path + ": receiving the sockets: " + error;
      return false;
    }
    std::istringstream in(text);
    std::string kind;
    in >> kind;
    if (kind == "END") {
      uint64_t pid = 0;
      std::string number;
      in >> number;
      parse_number(number, 1u << 30, pid);
      out.old_pid = static_cast<int>(pid);
      return true;
    }
    std::string bind, configured, bound, name;
    in >> bind >> configured >> bound;
    std::getline(in >> std::ws, name);
    uint64_t configured_port = 0, bound_port = 0;
    if (!parse_number(configured, 65535, configured_port) || !parse_number(bound, 65535, bound_port) ||
        fds.empty() || (kind != "LISTENER" && kind != "ADMIN")) {
      error = "--takeover " + path + ": unexpected message '" + text + "'";
      return false;
    }
    if (kind == "ADMIN") {
      out.admin = std::move(fds.front());
      out.admin_address = bind;
      out.admin_configured_port = static_cast<uint32_t>(configured_port);
      out.admin_bound_port = static_cast<uint16_t>(bound_port);
      continue;
    }
    proxy::ListenerSockets* l = nullptr;
    for (auto& existing : out.listeners) {
      if (existing.name == name) l = &existing;  // the rest of a large listener
    }
    if (l == nullptr) {
      out.listeners.push_back(proxy::ListenerSockets{
          name, bind, static_cast<uint32_t>(configured_port), static_cast<uint16_t>(bound_port), {}});
      l = &out.listeners.back();
    }
    for (auto& fd : fds) l->sockets.push_back(std::move(fd));
  }
}

bool ask_to_drain(TakenOver& taken, std::string& error) {
  if (!send_text(taken.channel.get(), "DRAIN", error)) return false;
  std::string text;
  std::vector<net::UniqueFd> none;
  if (!net::receive_message(taken.channel.get(), text, none, kReplyTimeoutMs, error)) return false;
  if (text.rfind("DRAINING ", 0) != 0) {
    error = "unexpected answer '" + text + "'";
    return false;
  }
  taken.channel.reset();
  return true;
}

}  // namespace torii::cli
