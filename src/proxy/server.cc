#include "proxy/server.h"

#include <map>

#include "net/socket_ops.h"
#include "proxy/worker.h"

namespace torii::proxy {

namespace {
constexpr int kListenBacklog = 1024;
}  // namespace

// What the control thread knows about open listeners: which address each
// one is bound to (the sockets themselves belong to the workers).
struct Server::ListenerSet {
  struct Entry {
    std::string bind;
    uint32_t configured_port = 0;
    uint16_t bound_port = 0;
  };
  std::map<std::string, Entry> entries;
};

Server::Server(ServerOptions options)
    : options_(std::move(options)), listeners_(std::make_unique<ListenerSet>()) {
  int count = options_.workers < 1 ? 1 : options_.workers;
  for (int i = 0; i < count; ++i)
    workers_.push_back(std::make_unique<Worker>(i, options_, &cluster_registry_));
}

Server::~Server() { drain_and_stop(); }

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
      it = listeners_->entries.erase(it);
    } else {
      ++it;
    }
  }
  // New listeners: one SO_REUSEPORT socket per worker, all bound before
  // any is handed over, so a failure leaves nothing half-open.
  for (const compile::Listener& l : snapshot->listeners) {
    if (listeners_->entries.count(l.name) != 0) continue;
    std::vector<net::UniqueFd> fds;
    std::string error;
    uint16_t port = static_cast<uint16_t>(l.listen_port);
    for (size_t i = 0; i < n; ++i) {
      net::UniqueFd fd = net::listen_tcp(l.bind, port, /*reuse_port=*/true, kListenBacklog, error);
      if (!fd.valid()) break;
      if (port == 0) port = net::local_port(fd.get());  // the others join the same port
      fds.push_back(std::move(fd));
    }
    if (fds.size() != n) {
      errors.push_back("listener " + l.name + ": " + error);
      continue;
    }
    listeners_->entries[l.name] = ListenerSet::Entry{l.bind, l.listen_port, port};
    for (size_t i = 0; i < n; ++i) added[i].push_back(ListenerHandoff{l.name, std::move(fds[i])});
  }
  for (size_t i = 0; i < n; ++i) workers_[i]->post_update(snapshot, std::move(added[i]), removed);
  ready_.store(errors.empty(), std::memory_order_release);
  return errors;
}

uint16_t Server::listener_port(const std::string& name) const {
  auto it = listeners_->entries.find(name);
  return it == listeners_->entries.end() ? 0 : it->second.bound_port;
}

void Server::drain_and_stop() {
  if (stopped_) return;
  stopped_ = true;
  ready_.store(false, std::memory_order_release);
  if (started_) {
    for (auto& w : workers_) w->post_drain();
  }
  for (auto& w : workers_) w->join();
}

std::vector<const WorkerStats*> Server::worker_stats() const {
  std::vector<const WorkerStats*> out;
  out.reserve(workers_.size());
  for (const auto& w : workers_) out.push_back(&w->stats());
  return out;
}

}  // namespace torii::proxy
