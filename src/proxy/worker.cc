#include "proxy/worker.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <time.h>

#include "net/buffer.h"
#include "net/socket_ops.h"
#include "proxy/downstream_connection.h"
#include "proxy/l4_connection.h"
#include "proxy/shadow_request.h"

namespace torii::proxy {

// One listening socket of this worker (its own SO_REUSEPORT socket).
class Worker::ListenerSlot final : public net::AcceptHandler {
 public:
  ListenerSlot(Worker& worker, std::string name, net::UniqueFd fd)
      : worker_(worker), name_(std::move(name)), listener_(worker.loop_, std::move(fd), *this) {}
  const std::string& name() const { return name_; }
  void on_accept(net::UniqueFd fd, const sockaddr_storage& peer) override {
    worker_.accept(std::move(fd), peer, name_);
  }

 private:
  Worker& worker_;
  std::string name_;
  net::TcpListener listener_;
};

namespace {
constexpr uint64_t kDrainCheckIntervalMs = 20;

uint64_t seed_for(int index) {
  std::random_device device;
  uint64_t seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  return seed ^ static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
         (static_cast<uint64_t>(index) << 48);
}
}  // namespace

Worker::Worker(int index, const ServerOptions& options, upstream::SharedClusterRegistry* clusters)
    : index_(index),
      options_(options),
      metrics_(options.istio_metrics),
      clusters_(loop_, options.upstream_idle_timeout_ms, seed_for(index),
                upstream::ConnectionPool::Counters{&stats_.upstream_cx_active, &stats_.upstream_cx_total,
                                                   &stats_.upstream_cx_connect_fail,
                                                   &stats_.upstream_cx_connect_timeout},
                clusters),
      shadows_(std::make_unique<ShadowRequests>(*this)),
      drain_timer_(loop_, [this] { loop_.stop(); }),
      drain_check_timer_(loop_, [this] { maybe_finish_drain(); }),
      drain_close_timer_(loop_, [this] {
        drain_closes_idle_ = true;
        drain_open_connections(/*graceful_goaway=*/true);
      }) {
  // HTTP/2 to upstreams: the same windows and limits as from clients.
  upstream::Http2ClientSettings h2;
  h2.stream_window_bytes = options.http2_stream_window_bytes;
  h2.connection_window_bytes = options.http2_connection_window_bytes;
  h2.buffer_limit_bytes = options.buffer_limit_bytes;
  h2.max_response_header_bytes = options.max_response_headers_bytes;
  h2.max_response_headers = options.max_request_headers_count;
  clusters_.pool().set_http2_defaults(h2);
}

Worker::~Worker() {
  join();
  // Normally done on the worker thread when run() returns; this covers a
  // worker that never started.
  l4_connections_.clear();
  connections_.clear();
  shadows_->clear();
  listeners_.clear();
  loop_.flush_deferred_deletes();
}

int64_t Worker::wall_clock_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void Worker::log_stream(const StreamInfo& info, const http::HeaderMap* request_headers,
                        const compile::Snapshot* snapshot) {
  if (access_log_writer_ == nullptr) return;
  if (snapshot == nullptr ? !access_log_have_path_
                          : !snapshot->access_log.should_log(access_log_have_path_, info.response_code))
    return;
  access_log_line_.clear();
  access_log_format_->format(info, request_headers, loop_.now_ms(), access_log_line_);
  // Never waits for the disk: a writer that is behind costs this line.
  WorkerStats::inc(access_log_writer_->append(index_, access_log_line_) ? stats_.access_log_written
                                                                        : stats_.access_log_dropped);
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  net::Buffer::count_slices_in(&stats_.buffer_slices_active);
  loop_.run();
  // Tear down on this thread, while everything these objects touch exists.
  l4_connections_.clear();
  connections_.clear();
  shadows_->clear();
  listeners_.clear();
  loop_.flush_deferred_deletes();
  snapshot_.reset();
  // stats_ dies with this Worker; the thread's buffers must not count into it.
  net::Buffer::count_slices_in(nullptr);
}

void Worker::post_update(compile::SnapshotPtr snapshot, std::vector<ListenerHandoff> added,
                         std::vector<std::string> removed) {
  struct Update {
    compile::SnapshotPtr snapshot;
    std::vector<ListenerHandoff> added;
    std::vector<std::string> removed;
  };
  // std::function needs a copyable closure; the file descriptors are not.
  auto update = std::make_shared<Update>(Update{std::move(snapshot), std::move(added), std::move(removed)});
  loop_.post([this, update] { apply_update(std::move(update->snapshot), update->added, update->removed); });
}

void Worker::apply_update(compile::SnapshotPtr snapshot, std::vector<ListenerHandoff>& added,
                          const std::vector<std::string>& removed) {
  for (const std::string& name : removed) {
    std::erase_if(listeners_, [&](const auto& slot) { return slot->name() == name; });
  }
  if (!removed.empty()) drain_connections_of(removed);
  if (!draining_) {
    for (ListenerHandoff& h : added)
      listeners_.push_back(std::make_unique<ListenerSlot>(*this, h.name, std::move(h.fd)));
  }
  // Rebind per-cluster state before any request can see the new snapshot.
  clusters_.on_snapshot(snapshot->clusters, snapshot->cluster_slots);
  // Streams copy snapshot_ once per request. Through a per-worker holder
  // (aliasing constructor) those copies count references on this worker's
  // own control block instead of one shared by every core.
  auto holder = std::make_shared<const compile::SnapshotPtr>(std::move(snapshot));
  snapshot_ = compile::SnapshotPtr(holder, holder->get());
  metrics_.on_snapshot_change();
  Adopted& slot = adopted_[snapshot_->version % kAdoptedKept];
  slot.version.store(0, std::memory_order_relaxed);  // the slot is being rewritten
  std::atomic_thread_fence(std::memory_order_release);
  slot.at_us.store(wall_clock_us(), std::memory_order_relaxed);
  slot.version.store(snapshot_->version, std::memory_order_release);
}

int64_t Worker::adopted_at_us(uint64_t version) const {
  const Adopted& slot = adopted_[version % kAdoptedKept];
  if (slot.version.load(std::memory_order_acquire) != version) return -1;
  const int64_t at = slot.at_us.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  // Rewritten meanwhile (kAdoptedKept snapshots later): forgotten.
  return slot.version.load(std::memory_order_relaxed) == version ? at : -1;
}

void Worker::drain_connections_of(const std::vector<std::string>& listeners) {
  // Envoy drains a removed listener's connections: HTTP/1.1 ones close
  // after the response in flight (idle ones at once), HTTP/2 ones get
  // GOAWAY and finish their streams. Served on, they would route with a
  // snapshot that no longer has their listener (404).
  std::vector<DownstreamConnection*> gone;
  for (auto& connection : connections_) {
    if (std::find(listeners.begin(), listeners.end(), connection->listener_name()) != listeners.end())
      gone.push_back(connection.get());
  }
  for (DownstreamConnection* connection : gone) connection->start_drain();
}

void Worker::post_drain(DrainKind kind) {
  loop_.post([this, kind] { start_drain(kind); });
}

void Worker::start_drain(DrainKind kind) {
  if (draining_) return;
  draining_ = true;
  // In an upgrade the sockets live on in the new process, which accepts
  // what is queued on them; closing this worker's descriptors loses nothing.
  listeners_.clear();
  if (options_.drain_timeout_ms == 0) {
    drain_open_connections(false);
    loop_.stop();
    return;
  }
  drain_timer_.arm(options_.drain_timeout_ms);
  if (kind == DrainKind::Upgrade) {
    // Every HTTP/1.1 request from now on is answered with `Connection: close`
    // (its client reconnects, to the new process). HTTP/2 clients and idle
    // HTTP/1.1 ones keep their connections for half the drain time: a client
    // that does not reopen after GOAWAY (h2load, many load generators) can
    // finish its work; then they get GOAWAY or are closed, and the other
    // half is for what is in flight then. (Envoy's gradual drain spreads the
    // same over its drain time.)
    drain_closes_idle_ = false;
    drain_close_timer_.arm(options_.drain_timeout_ms / 2);
  } else {
    drain_open_connections(false);
  }
  maybe_finish_drain();
}

void Worker::drain_open_connections(bool graceful_goaway) {
  // start_drain() may remove the connection from the list: iterate a copy.
  std::vector<DownstreamConnection*> open;
  for (auto& connection : connections_) open.push_back(connection.get());
  for (DownstreamConnection* connection : open) connection->start_drain(graceful_goaway);
}

void Worker::maybe_finish_drain() {
  if (!draining_) return;
  // Connections that only wait for the client's FIN do not hold the drain up.
  // Tunnels (L4) run on until the drain timeout, as Envoy's tcp_proxy does.
  bool busy = !l4_connections_.empty();
  for (const auto& connection : connections_) busy = busy || !connection->lingering();
  if (!busy) {
    loop_.stop();
  } else {
    drain_check_timer_.arm(kDrainCheckIntervalMs);
  }
}

void Worker::accept(net::UniqueFd fd, const sockaddr_storage& peer, const std::string& listener_name) {
  if (draining_) return;
  WorkerStats::inc(stats_.downstream_cx_total);
  WorkerStats::inc(stats_.downstream_cx_active);
  metrics_.connection_opened(listener_name);
  const compile::Listener* l4 = snapshot_ ? snapshot_->find_listener(listener_name) : nullptr;
  if (l4 != nullptr && l4->l4) {
    auto connection = std::make_unique<L4Connection>(*this, std::move(fd), net::ip_to_string(peer),
                                                     listener_name, snapshot_, *l4);
    l4_connections_.push_front(std::move(connection));
    l4_connections_.front()->position = l4_connections_.begin();
    l4_connections_.front()->start();
    return;
  }
  start_http(std::move(fd), net::ip_to_string(peer), listener_name);
}

const std::string& Worker::intern_listener_name(const std::string& name) {
  return *listener_names_.insert(name).first;
}

void Worker::start_http(net::UniqueFd fd, std::string peer_ip, const std::string& listener_name) {
  auto connection = std::make_unique<DownstreamConnection>(*this, std::move(fd), std::move(peer_ip),
                                                           intern_listener_name(listener_name));
  const compile::Listener* listener = snapshot_ ? snapshot_->find_listener(listener_name) : nullptr;
  if (listener != nullptr && !listener->tls_chains.empty()) {
    auto session = std::make_unique<net::TlsSession>(listener->tls_chains.front().context, "");
    // The certificate follows the SNI (Envoy's filter chain match). The
    // snapshot is captured so the chains outlive a reload during the handshake.
    session->set_sni_selector(
        [snapshot = snapshot_, listener](std::string_view sni) -> std::shared_ptr<const net::TlsContext> {
          const compile::TlsChain* chain = listener->chain_for_sni(sni);
          return chain == nullptr ? nullptr : chain->context;
        });
    connection->start_tls(std::move(session));
  }
  connections_.push_front(std::move(connection));
  connections_.front()->position = connections_.begin();
}

void Worker::remove_l4_connection(L4Connection& connection, bool handed_over) {
  if (!handed_over) {
    WorkerStats::dec(stats_.downstream_cx_active);
    metrics_.connection_closed(connection.listener_name());
  }
  auto it = connection.position;
  loop_.defer_delete(std::move(*it));
  l4_connections_.erase(it);
  if (draining_ && connections_.empty() && l4_connections_.empty()) loop_.stop();
}

void Worker::remove_connection(DownstreamConnection& connection) {
  WorkerStats::dec(stats_.downstream_cx_active);
  metrics_.connection_closed(connection.listener_name());
  auto it = connection.position;
  loop_.defer_delete(std::move(*it));
  connections_.erase(it);
  // The full scan waits for the drain-check timer; this is the cheap case.
  if (draining_ && connections_.empty() && l4_connections_.empty()) loop_.stop();
}

DynamicHostCache& Worker::dynamic_hosts() {
  if (!dynamic_hosts_)
    dynamic_hosts_ = std::make_unique<DynamicHostCache>(loop_, clusters_, options_.dynamic_hosts);
  return *dynamic_hosts_;
}

}  // namespace torii::proxy
