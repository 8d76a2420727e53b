#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "admin/admin_pages.h"
#include "admin/admin_server.h"
#include "cli/atomic_file.h"
#include "cli/commands.h"
#include "cli/control_plane.h"
#include "cli/log.h"
#include "cli/version.h"
#include "net/socket_ops.h"
#include "sources/file_watcher.h"

namespace torii::cli {

namespace {

// File events come in bursts (an editor writes, renames, chmods); wait this
// long after the last one before reloading, so one save is one reload.
constexpr int kReloadDebounceMs = 50;

}  // namespace

int run_command(const Options& options) {
  // Signals are handled by the control thread through a signalfd; block them
  // before any thread starts so workers inherit the mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGUSR1);  // reopen the access log (logrotate)
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  proxy::Server server(options.server);
  std::string access_log_error;
  if (!server.open_access_log(access_log_error)) {
    log_error(access_log_error);
    return 1;
  }
  std::string exporter_error;
  if (!server.open_span_exporter(exporter_error)) {
    log_error(exporter_error);
    return 1;
  }
  server.start();

  admin::ConfigStateHolder state;
  ControlPlane control(options, server, state);

  std::unique_ptr<sources::FileWatcher> watcher;
  if (options.watch) watcher = std::make_unique<sources::FileWatcher>(options.config_paths);

  control.reload();

  std::unique_ptr<admin::AdminServer> admin_server;
  if (options.admin) {
    admin_server = std::make_unique<admin::AdminServer>(options.admin_address, options.admin_port,
                                                        admin::make_admin_handler(state, server, version()));
    std::string error;
    if (!admin_server->start(error)) {
      log_error(error);
      server.drain_and_stop();
      return 1;
    }
    // The bound address (the kernel's port for --admin ADDR:0), in a line
    // format scripts may rely on: "admin endpoint on ADDR:PORT".
    const std::string address = net::address_with_port(options.admin_address, admin_server->port());
    log_info("admin endpoint on " + address);
    if (!options.admin_address_path.empty() &&
        !write_file_atomically(options.admin_address_path, address, error)) {
      log_error("--admin-address-path: " + error);
      admin_server->stop();
      server.drain_and_stop();
      return 1;
    }
  }

  bool reload_pending = false;
  auto reload_at = std::chrono::steady_clock::now();
  for (;;) {
    pollfd fds[3] = {
        {sig_fd, POLLIN, 0}, {watcher ? watcher->fd() : -1, POLLIN, 0}, {control.dns_event_fd(), POLLIN, 0}};
    int timeout = -1;
    if (reload_pending) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(reload_at - std::chrono::steady_clock::now());
      timeout = left.count() < 0 ? 0 : static_cast<int>(left.count());
    }
    int n = poll(fds, 3, timeout);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[1].revents & POLLIN) && watcher->consume_events()) {
      reload_pending = true;
      reload_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReloadDebounceMs);
    }
    if (n > 0 && (fds[2].revents & POLLIN)) control.on_dns_change();
    if (n > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info{};
      if (read(sig_fd, &info, sizeof(info)) == sizeof(info)) {
        if (info.ssi_signo == SIGUSR1) {
          log_info("SIGUSR1: reopening the access log");
          server.reopen_access_log();
          continue;
        }
        if (info.ssi_signo == SIGHUP) {
          log_info("SIGHUP: reloading configuration");
          control.reload();
          continue;
        }
        log_info(std::string("signal ") + strsignal(static_cast<int>(info.ssi_signo)) + ": draining");
        break;
      }
    }
    if (reload_pending && std::chrono::steady_clock::now() >= reload_at) {
      reload_pending = false;
      control.reload();
    }
  }

  server.drain_and_stop();
  if (admin_server) admin_server->stop();
  log_info("stopped");
  return 0;
}

}  // namespace torii::cli
