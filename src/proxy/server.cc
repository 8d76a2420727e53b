#include "proxy/server.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "net/socket_ops.h"
#include "proxy/worker.h"

namespace torii::proxy {

namespace {

constexpr int kListenBacklog = 1024;

// One SO_REUSEPORT socket per worker on bind:port, all bound before any is
// handed over, so a failure leaves nothing half-open. Port 0: the first
// socket gets a port from the kernel and the others join that port.
std::vector<net::UniqueFd> bind_for_workers(const std::string& bind, uint16_t port, size_t workers,
                                            std::string& error) {
  std::vector<net::UniqueFd> fds;
  for (size_t i = 0; i < workers; ++i) {
    net::UniqueFd fd = net::listen_tcp(bind, port, /*reuse_port=*/true, kListenBacklog, error);
    if (!fd.valid()) return {};
    if (port == 0) port = net::local_port(fd.get());
    fds.push_back(std::move(fd));
  }
  return fds;
}

// A second descriptor for the same socket, for the control thread to hand
// over (the workers own theirs). Invalid when out of descriptors.
net::UniqueFd dup_socket(int fd) { return net::UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

}  // namespace

// What the control thread knows about open listeners: which address each
// one is bound to (the sockets belong to the workers; the control thread
// keeps a second descriptor of each, one fd per socket, to hand over).
struct Server::ListenerSet {
  struct Entry {
    std::string bind;
    uint32_t configured_port = 0;
    uint16_t bound_port = 0;
    // The same sockets as the workers', for a hot upgrade to hand over.
    std::vector<net::UniqueFd> sockets;
  };
  std::map<std::string, Entry> entries;
  // From the process this one took over from, until the first publish.
  std::vector<ListenerSockets> inherited;

  // The inherited sockets for `l`, if any: same bind address and configured
  // port (a port-0 listener also by name: it is "the same" listener only then).
  std::vector<net::UniqueFd> take_inherited(const compile::Listener& l) {
    for (auto it = inherited.begin(); it != inherited.end(); ++it) {
      if (it->bind != l.bind || it->configured_port != l.listen_port) continue;
      if (l.listen_port == 0 && it->name != l.name) continue;
      std::vector<net::UniqueFd> out = std::move(it->sockets);
      inherited.erase(it);
      return out;
    }
    return {};
  }
  // A listener configured with port 0 that closed (its Gateway went away)
  // keeps its port: a bound, non-listening socket (net::bind_tcp) refuses
  // connections and keeps every other process off the port, so when the
  // listener comes back it gets the same port. One descriptor per such port.
  struct Held {
    uint16_t port = 0;
    net::UniqueFd socket;
  };
  std::map<std::string, Held> held_ports;

  // Called as `entry` closes: its socket joins the workers' ones
  // (SO_REUSEPORT) before they close, so the port is never free meanwhile.
  void hold_port(const std::string& name, const Entry& entry) {
    std::string error;  // not held: the listener gets a new port if it comes back
    net::UniqueFd socket = net::bind_tcp(entry.bind, entry.bound_port, /*reuse_port=*/true, error);
    if (socket.valid()) held_ports[name] = Held{entry.bound_port, std::move(socket)};
  }
};

Server::Server(ServerOptions options)
    : options_(std::move(options)), listeners_(std::make_unique<ListenerSet>()) {
  int count = options_.workers < 1 ? 1 : options_.workers;
  for (int i = 0; i < count; ++i)
    workers_.push_back(std::make_unique<Worker>(i, options_, &cluster_registry_));
}

Server::~Server() { drain_and_stop(); }

bool Server::open_access_log(std::string& error) {
  if (!telemetry::AccessLogFormat::parse(options_.access_log_format, access_log_format_, error)) {
    error = "--access-log-format: " + error;
    return false;
  }
  // Without --access-log the writer still exists, idle, for a Telemetry
  // that turns the `envoy` provider on live (Istio's writes to /dev/stdout).
  const bool have_path = !options_.access_log_path.empty();
  access_log_ = std::make_unique<telemetry::AccessLogWriter>(
      have_path ? options_.access_log_path : std::string("/dev/stdout"), static_cast<int>(workers_.size()));
  if (!access_log_->open(error)) {
    access_log_.reset();
    if (have_path) return false;
    error.clear();  // no stdout to fall back on: a Telemetry cannot turn logging on
  }
  if (!access_log_) return true;
  for (auto& w : workers_) w->set_access_log(&access_log_format_, access_log_.get(), have_path);
  access_log_->start();
  return true;
}

bool Server::open_span_exporter(std::string& error) {
  if (options_.otlp_endpoint.empty()) return true;
  telemetry::OtlpEndpoint endpoint;
  if (!telemetry::parse_otlp_endpoint(options_.otlp_endpoint, endpoint, error)) {
    error = "--otlp-endpoint: " + error;
    return false;
  }
  // What Istio's OpenTelemetry provider puts on every span of a gateway:
  // service.name "<workload>.<namespace>", Envoy's node_id, and the Istio
  // tags (enableIstioTags, on by default).
  const telemetry::GatewayIdentity& who = options_.identity;
  telemetry::OtlpResource resource;
  const std::string service = who.workload + "." + who.workload_namespace;
  resource.resource_attributes = {{"service.name", service}};
  auto label = [&who](const char* key, const std::string& fallback) {
    auto it = who.labels.find(key);
    return it != who.labels.end() ? it->second : fallback;
  };
  const std::string canonical =
      label("service.istio.io/canonical-name", label("app.kubernetes.io/name", label("app", who.workload)));
  resource.span_attributes = {
      {"node_id", "router~" + who.workload + "." + who.workload_namespace + "~" + who.workload_namespace +
                      ".svc.cluster.local"},
      {"zone", ""},
      {"istio.canonical_service", canonical},
      {"istio.canonical_revision", label("service.istio.io/canonical-revision",
                                         label("app.kubernetes.io/version", label("version", "latest")))},
      {"istio.mesh_id", "cluster.local"},
      {"istio.namespace", who.workload_namespace},
      {"istio.cluster_id", who.cluster_id},
  };
  span_exporter_ = std::make_unique<telemetry::SpanExporter>(std::move(endpoint), std::move(resource),
                                                             static_cast<int>(workers_.size()));
  for (auto& w : workers_) w->set_span_exporter(span_exporter_.get());
  span_exporter_->start();
  return true;
}

void Server::reopen_access_log() {
  if (access_log_) access_log_->reopen();
}

void Server::start() {
  if (started_) return;
  started_ = true;
  for (auto& w : workers_) w->start();
}

std::vector<std::string> Server::publish(compile::SnapshotPtr snapshot) {
  std::vector<std::string> errors;
  if (!snapshot || stopped_) return errors;
  size_t n = workers_.size();
  std::vector<std::vector<ListenerHandoff>> added(n);
  std::vector<std::string> removed;

  // Listeners that are gone, or now want a different address.
  for (auto it = listeners_->entries.begin(); it != listeners_->entries.end();) {
    const compile::Listener* l = snapshot->find_listener(it->first);
    if (l == nullptr || l->bind != it->second.bind || l->listen_port != it->second.configured_port) {
      removed.push_back(it->first);
      if (it->second.configured_port == 0) listeners_->hold_port(it->first, it->second);
      it = listeners_->entries.erase(it);
    } else {
      ++it;
    }
  }
  // New listeners. Unchanged ones keep their sockets, so a port-0 listener
  // keeps its port across reloads.
  for (const compile::Listener& l : snapshot->listeners) {
    if (listeners_->entries.count(l.name) != 0) continue;
    std::string error;
    std::vector<net::UniqueFd> fds = listeners_->take_inherited(l);
    if (!fds.empty()) {
      // Taken over: accept from the very sockets the old process listened on
      // (their queued connections are not lost). With fewer workers than
      // sockets some workers take several; with more, the others join the
      // SO_REUSEPORT group with sockets of their own.
      const uint16_t port = net::local_port(fds.front().get());
      // An older binary may not have set it; accepted sockets inherit it.
      for (const net::UniqueFd& fd : fds) net::set_tcp_nodelay(fd.get());
      ListenerSet::Entry entry{l.bind, l.listen_port, port, {}};
      const size_t inherited = fds.size();
      for (size_t i = inherited; i < n; ++i) {
        net::UniqueFd extra = net::listen_tcp(l.bind, port, /*reuse_port=*/true, kListenBacklog, error);
        if (extra.valid()) fds.push_back(std::move(extra));
      }
      for (size_t j = 0; j < fds.size(); ++j) {
        entry.sockets.push_back(dup_socket(fds[j].get()));
        added[j % n].push_back(ListenerHandoff{l.name, std::move(fds[j])});
      }
      listeners_->entries[l.name] = std::move(entry);
      continue;
    }
    auto held = listeners_->held_ports.find(l.name);
    if (l.listen_port == 0 && held != listeners_->held_ports.end()) {
      fds = bind_for_workers(l.bind, held->second.port, n, error);  // the port it had
    }
    if (fds.empty()) fds = bind_for_workers(l.bind, static_cast<uint16_t>(l.listen_port), n, error);
    if (fds.empty()) {
      errors.push_back("listener " + l.name + ": " + error);
      continue;
    }
    if (held != listeners_->held_ports.end()) listeners_->held_ports.erase(held);
    const uint16_t port = net::local_port(fds.front().get());
    ListenerSet::Entry entry{l.bind, l.listen_port, port, {}};
    for (size_t i = 0; i < n; ++i) {
      entry.sockets.push_back(dup_socket(fds[i].get()));
      added[i].push_back(ListenerHandoff{l.name, std::move(fds[i])});
    }
    listeners_->entries[l.name] = std::move(entry);
  }
  // Inherited sockets no listener wanted: their addresses are not configured
  // any more. Closing them refuses what was queued there, as a reload that
  // removes a listener does.
  listeners_->inherited.clear();
  for (size_t i = 0; i < n; ++i) workers_[i]->post_update(snapshot, std::move(added[i]), removed);
  ready_.store(errors.empty(), std::memory_order_release);
  return errors;
}

uint16_t Server::listener_port(const std::string& name) const {
  auto it = listeners_->entries.find(name);
  return it == listeners_->entries.end() ? 0 : it->second.bound_port;
}

std::vector<ListenerSockets> Server::export_listeners(std::string& error) const {
  std::vector<ListenerSockets> out;
  for (const auto& [name, entry] : listeners_->entries) {
    ListenerSockets l{name, entry.bind, entry.configured_port, entry.bound_port, {}};
    for (const net::UniqueFd& socket : entry.sockets) {
      net::UniqueFd copy = dup_socket(socket.get());
      if (!copy.valid()) {
        error = "listener " + name + ": dup: " + std::strerror(errno);
        return {};
      }
      l.sockets.push_back(std::move(copy));
    }
    out.push_back(std::move(l));
  }
  return out;
}

void Server::inherit_listeners(std::vector<ListenerSockets> sockets) {
  listeners_->inherited = std::move(sockets);
}

void Server::drain_and_stop(DrainKind kind) {
  if (stopped_) return;
  stopped_ = true;
  ready_.store(false, std::memory_order_release);
  // The control thread's copies go first: with the workers' gone too, the
  // sockets close (or live on only in the process that took them over).
  for (auto& [name, entry] : listeners_->entries) entry.sockets.clear();
  if (started_) {
    for (auto& w : workers_) w->post_drain(kind);
  }
  for (auto& w : workers_) w->join();
  // The workers' last lines (streams ended by the drain) are written.
  if (access_log_) access_log_->stop();
  if (span_exporter_) span_exporter_->stop();
}

std::vector<const WorkerStats*> Server::worker_stats() const {
  std::vector<const WorkerStats*> out;
  out.reserve(workers_.size());
  for (const auto& w : workers_) out.push_back(&w->stats());
  return out;
}

std::vector<const telemetry::RequestMetrics*> Server::worker_metrics() const {
  std::vector<const telemetry::RequestMetrics*> out;
  out.reserve(workers_.size());
  for (const auto& w : workers_) out.push_back(&w->metrics());
  return out;
}

int64_t Server::serving_since_us(uint64_t version) const {
  int64_t last = -1;
  for (const auto& w : workers_) {
    const int64_t at = w->adopted_at_us(version);
    if (at < 0) return -1;
    last = std::max(last, at);
  }
  return last;
}

}  // namespace torii::proxy
