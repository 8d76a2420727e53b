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
#include "cli/sd_notify.h"
#include "cli/upgrade.h"
#include "cli/version.h"
#include "net/socket_ops.h"
#include "security/jwks_fetch.h"
#include "sources/etcd_source.h"
#include "sources/file_watcher.h"
#include "sources/replica_status.h"

namespace torii::cli {

namespace {

// File events come in bursts (an editor writes, renames, chmods; a ConfigMap
// volume swaps a symlink): wait this long after the last one before
// reloading, so one save is one reload. The wait is part of every change's
// time to serving, but shorter is not safe: a writer that fsyncs its temp
// file before the rename (tests/e2e/harness.py write_atomic) can leave more
// than 10 ms between the two events on a loaded machine, and a 10 ms wait
// then reloaded twice (a clean CI run of test_dashboard).
constexpr int kReloadDebounceMs = 50;
// After a rename into place (the usual last step of a write) only this long:
// the write is complete, and what may follow at once (a chmod, the removal
// of the old ConfigMap directory) falls inside it or restarts the full wait.
constexpr int kSettleAfterRenameMs = 5;
constexpr int kJwksCheckMs = 1000;

// A takeover stops the running process, so it is only tried with a
// configuration `torii validate` accepts: errors are printed and counted.
size_t config_errors(const Options& options) {
  config::Store store;
  Compiled c = load_and_compile(options, store);
  size_t errors = 0;
  for (const config::Diagnostics* list : {&c.store.diagnostics, &c.compiled.diagnostics}) {
    for (const auto& d : *list) {
      if (d.severity != config::Diagnostic::Severity::Error) continue;
      log_error(d.format());
      ++errors;
    }
  }
  return errors;
}

// /ready's note while etcd cannot be reached.
std::string stale_note(const sources::EtcdSource& etcd) {
  if (etcd.connected() || !etcd.loaded()) return "";
  return "stale: serving from cache (etcd unreachable since " + etcd.unreachable_since() + ")";
}

// What this replica writes under <prefix>replicas/<name>.
sources::ReplicaStatus replica_status(const sources::EtcdSource& etcd, const ControlPlane& control,
                                      const std::string& prefix, const std::string& endpoint) {
  sources::ReplicaStatus status;
  status.served_revision = etcd.revision();
  status.newest_seen = etcd.newest_seen();
  status.endpoint = endpoint;
  status.updated = utc_now_rfc3339();
  // Objects from etcd are named by their keys (loader and compile errors alike).
  const std::string objects = prefix + "objects/";
  for (auto it = control.first_errors().lower_bound(objects);
       it != control.first_errors().end() && it->first.starts_with(objects); ++it)
    status.rejected.emplace(it->first, it->second);
  return status;
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

  // --takeover: the running process's sockets, before anything binds.
  const bool takeover = !options.takeover_path.empty();
  UpgradeSocket upgrade;
  if (!takeover && !options.upgrade_socket_path.empty()) {
    std::string error;
    if (!upgrade.open(options.upgrade_socket_path, error)) {
      log_error(error);
      return 1;
    }
  }
  TakenOver taken;
  if (takeover) {
    if (size_t errors = config_errors(options); errors != 0) {
      log_error("--takeover: the configuration has " + std::to_string(errors) +
                " error(s) (above); not taking over: the running process keeps serving");
      return 1;
    }
    std::string error;
    if (!take_over(options.takeover_path, taken, error)) {
      log_error(error);
      return 1;
    }
    size_t sockets = 0;
    for (const auto& l : taken.listeners) sockets += l.sockets.size();
    log_info("takeover: pid " + std::to_string(taken.old_pid) + " handed over " +
             std::to_string(taken.listeners.size()) + " listener(s) (" + std::to_string(sockets) +
             " socket(s))" + (taken.admin.valid() ? " and its admin socket" : ""));
  }

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
  if (takeover) server.inherit_listeners(std::move(taken.listeners));
  server.start();

  admin::ConfigStateHolder state;
  // http(s) JWKS are fetched by `torii run` only (validate and explain never).
  security::RemoteJwks::instance().configure(options.jwks);
  ControlPlane control(options, server, state);

  std::unique_ptr<sources::FileWatcher> watcher;
  if (options.watch) watcher = std::make_unique<sources::FileWatcher>(options.config_paths);

  // --etcd: the objects in etcd, read before the first reload (docs/scale_out.md).
  std::unique_ptr<sources::EtcdClient> etcd_client;
  std::unique_ptr<sources::EtcdSource> etcd;
  if (options.etcd.enabled()) {
    etcd_client = std::make_unique<sources::EtcdClient>(options.etcd);
    etcd = std::make_unique<sources::EtcdSource>(*etcd_client, options.etcd_cache_dir,
                                                 [](bool error, const std::string& line) {
                                                   if (error) {
                                                     log_error(line);
                                                   } else {
                                                     log_info(line);
                                                   }
                                                 });
    if (etcd->start()) {
      control.set_etcd_objects(etcd->texts());
      log_info("etcd: " + std::to_string(etcd->texts().size()) + " object(s) under " + options.etcd.prefix +
               " at revision " + std::to_string(etcd->revision()) +
               (etcd->from_cache() ? " (from --etcd-cache)" : " from " + etcd_client->endpoint()));
    } else {
      log_error(etcd->holding()
                    ? "etcd: a chunked apply is being written; /ready says 503 until it is done"
                    : "etcd: cannot be reached and there is no --etcd-cache to start from; /ready says "
                      "503 until it answers (retrying)");
    }
    control.set_etcd_health(!etcd->loaded(), stale_note(*etcd));
  }

  control.reload();
  if (etcd) etcd->save_cache();
  if (takeover && !server.ready()) {
    // Half a takeover is worse than none: the old process keeps everything.
    log_error("--takeover: not every listener could be opened (above); pid " + std::to_string(taken.old_pid) +
              " keeps serving");
    server.drain_and_stop();
    return 1;
  }

  std::unique_ptr<admin::AdminServer> admin_server;
  if (options.admin) {
    admin_server = std::make_unique<admin::AdminServer>(options.admin_address, options.admin_port,
                                                        admin::make_admin_handler(state, server, version()));
    // The old admin socket when it is the same endpoint: the port stays,
    // also a kernel-picked one (--admin ADDR:0).
    if (taken.admin.valid() && taken.admin_address == options.admin_address &&
        taken.admin_configured_port == options.admin_port)
      admin_server->adopt_socket(taken.admin.release());
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
  taken.admin.reset();  // not adopted: the old process's, closed with it

  if (takeover) {
    std::string error;
    if (ask_to_drain(taken, error)) {
      log_info("takeover: serving; pid " + std::to_string(taken.old_pid) + " drains (its --drain-timeout-s)");
    } else {
      // It has our sockets' twins still: it may serve on, but it cannot
      // take them back from us. Serve.
      log_error("takeover: pid " + std::to_string(taken.old_pid) + " did not confirm its drain: " + error);
    }
  }
  // After a takeover the path is free only now (the old process removed it);
  // failing to listen there is no reason to stop serving.
  if (takeover && !options.upgrade_socket_path.empty()) {
    std::string error;
    if (!upgrade.open(options.upgrade_socket_path, error)) log_error(error);
  }
  // systemd (Type=notify): after a takeover this process is the service's
  // main process (NotifyAccess=all lets it say so).
  sd_notify(takeover ? "MAINPID=" + std::to_string(::getpid()) + "\nREADY=1" : std::string("READY=1"));

  // Replica status under a lease (sources/replica_status.h); default name HOST:ADMIN-PORT.
  std::unique_ptr<sources::ReplicaRegistration> replica;
  if (etcd) {
    std::string name = options.replica_name;
    if (name.empty()) {
      char host[256] = {0};
      ::gethostname(host, sizeof host - 1);
      name = std::string(host) + ":" + std::to_string(admin_server ? admin_server->port() : 0);
    }
    replica = std::make_unique<sources::ReplicaRegistration>(*etcd_client, options.etcd.prefix, name);
    log_info("etcd: replica status under " + options.etcd.prefix + "replicas/" + name);
  }

  bool taken_over = false;
  bool reload_pending = false;
  auto reload_at = std::chrono::steady_clock::now();
  int64_t first_event_us = 0;  // the burst's first file event, for the reload history
  auto jwks_check_at = std::chrono::steady_clock::now();
  for (;;) {
    pollfd fds[6] = {{sig_fd, POLLIN, 0},
                     {watcher ? watcher->fd() : -1, POLLIN, 0},
                     {control.dns_event_fd(), POLLIN, 0},
                     {upgrade.listen_fd(), POLLIN, 0},
                     {upgrade.peer_fd(), POLLIN, 0},
                     {etcd ? etcd->fd() : -1, POLLIN, 0}};
    int timeout = -1;
    if (reload_pending) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(reload_at - std::chrono::steady_clock::now());
      timeout = left.count() < 0 ? 0 : static_cast<int>(left.count());
    }
    // file:// JWKS in use: look for a rotated key about once a second.
    if (control.has_jwks_files() && (timeout < 0 || timeout > kJwksCheckMs)) timeout = kJwksCheckMs;
    // etcd: the next reconnect, and the replica status refresh.
    if (etcd) {
      const int etcd_timeout = etcd->connected() ? sources::kReplicaRefreshMs : etcd->timeout_ms();
      if (timeout < 0 || etcd_timeout < timeout) timeout = etcd_timeout;
    }
    int n = poll(fds, 6, timeout);
    if (control.has_jwks_files() && std::chrono::steady_clock::now() >= jwks_check_at) {
      jwks_check_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(kJwksCheckMs);
      control.check_jwks_files();
    }
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[1].revents & POLLIN) && watcher->consume_events()) {
      if (!reload_pending) first_event_us = wall_clock_us();
      reload_pending = true;
      const int wait_ms = watcher->last_was_rename() ? kSettleAfterRenameMs : kReloadDebounceMs;
      reload_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    }
    if (n > 0 && (fds[2].revents & POLLIN)) control.on_dns_change();
    if (etcd && ((n > 0 && fds[5].revents != 0) || (!etcd->connected() && etcd->timeout_ms() == 0))) {
      const int64_t detected_us = wall_clock_us();
      if (etcd->poll_once()) {
        control.set_etcd_objects(etcd->texts());
        control.set_etcd_health(false, stale_note(*etcd));
        control.reload("etcd", detected_us);
        etcd->save_cache();
      }
      control.set_etcd_health(!etcd->loaded(), stale_note(*etcd));
    }
    if (replica && etcd->connected())
      replica->update(replica_status(*etcd, control, options.etcd.prefix, etcd_client->endpoint()),
                      steady_ms());
    if (n > 0 && (fds[3].revents & POLLIN))
      upgrade.on_connect(server, admin_server.get(), options.admin_address, options.admin_port);
    if (n > 0 && fds[4].revents != 0) {
      int new_pid = 0;
      if (upgrade.on_peer_message(new_pid)) {
        log_info("upgrade: pid " + std::to_string(new_pid) + " serves now; draining for up to " +
                 std::to_string(options.server.drain_timeout_ms / 1000) + " s");
        taken_over = true;
        break;
      }
    }
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
          control.reload("SIGHUP", wall_clock_us());
          continue;
        }
        log_info(std::string("signal ") + strsignal(static_cast<int>(info.ssi_signo)) + ": draining");
        break;
      }
    }
    if (reload_pending && std::chrono::steady_clock::now() >= reload_at) {
      reload_pending = false;
      control.reload("file change", first_event_us);
    }
  }

  if (taken_over) {
    // The new process serves the admin socket now: stop answering on it first.
    if (admin_server) admin_server->stop();
    server.drain_and_stop(proxy::DrainKind::Upgrade);
  } else {
    sd_notify("STOPPING=1");
    if (replica) replica->remove();  // its key goes now, not when the lease expires
    upgrade.close();
    server.drain_and_stop();
    if (admin_server) admin_server->stop();
  }
  log_info("stopped");
  return 0;
}

}  // namespace torii::cli
