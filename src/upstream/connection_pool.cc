#include "upstream/connection_pool.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "upstream/cluster_request.h"
#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

namespace {

using Resource = ClusterCircuitBreaker::Resource;

// TLS origination: a connection made for another SNI does not carry the request.
bool suits(UpstreamConnection& connection, const ClusterInfo& cluster, std::string_view sni) {
  if (!cluster.policy.tls.enabled) return true;
  const net::TlsSession* tls = connection.connection().tls();
  return tls == nullptr || tls->server_name() == sni;
}

}  // namespace

ConnectionPool::ConnectionPool(net::EventLoop& loop, uint32_t idle_timeout_ms, Counters counters)
    : loop_(loop), idle_timeout_ms_(idle_timeout_ms), counters_(counters) {}

void ConnectionPool::bump(std::atomic<uint64_t>* counter) {
  // Single writer (this worker): no locked instruction.
  if (counter != nullptr)
    counter->store(counter->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// ---- HTTP requests ----

ConnectionPool::StreamStatus ConnectionPool::new_stream(ClusterRequest& request, PendingRequest& pending,
                                                        std::string_view sni, net::ConnectionCallbacks& user,
                                                        bool allow_idle,
                                                        std::unique_ptr<UpstreamConnection>& out) {
  EndpointState& endpoint = request.endpoint_state();
  const ClusterInfo& cluster = request.info();
  if (!allow_idle) {
    // A kept-alive connection just failed under the request: the others to
    // this endpoint are suspect too (the upstream restarted or timed them
    // out together). They go, which also frees their slots for new ones.
    close_list(endpoint.idle);
  } else {
    out = take_idle(endpoint, user);
    if (out && !suits(*out, cluster, sni)) close(std::move(out));
    if (out) {
      if (request.attach()) return StreamStatus::Ready;
      release(std::move(out), cluster);  // still idle, for a request under the limit
      return StreamStatus::Overflow;
    }
  }
  if (SharedClusterState* shared = endpoint.cluster; shared != nullptr) {
    if (!shared->circuit_breaker().try_acquire(Resource::PendingRequests,
                                               cluster.policy.limits.max_pending_requests)) {
      ClusterStats::inc(shared->stats().upstream_rq_pending_overflow);
      return StreamStatus::Overflow;
    }
    ClusterStats::inc(shared->stats().upstream_rq_pending_total);
    ClusterStats::inc(shared->stats().upstream_rq_pending_active);
  }
  pending.request_ = &request;
  pending.sni_ = sni;
  pending.queued_ms_ = loop_.now_ms();
  endpoint.pending.push_back(pending);
  try_create_connections(endpoint);
  return StreamStatus::Queued;
}

void ConnectionPool::cancel(PendingRequest& pending) {
  if (!pending.queued()) return;
  EndpointState& endpoint = pending.request_->endpoint_state();
  dequeue(pending);
  if (endpoint.cluster != nullptr) ClusterStats::inc(endpoint.cluster->stats().upstream_rq_cancelled);
  if (endpoint.connecting.size() > endpoint.pending.size()) {
    std::unique_ptr<UpstreamConnection> excess = std::move(endpoint.connecting.back());
    endpoint.connecting.pop_back();
    excess->connected();  // closed by us: no failure to report
    close(std::move(excess));
  }
}

void ConnectionPool::dequeue(PendingRequest& pending) {
  pending.queue_->remove(pending);
  SharedClusterState* shared = pending.request_->endpoint_state().cluster;
  if (shared == nullptr) return;
  shared->circuit_breaker().release(Resource::PendingRequests);
  ClusterStats& stats = shared->stats();
  ClusterStats::dec(stats.upstream_rq_pending_active);
  const uint64_t waited = loop_.now_ms() - pending.queued_ms_;
  stats.torii_rq_pending_wait_ms_total.fetch_add(waited, std::memory_order_relaxed);
  ClusterStats::raise(stats.torii_rq_pending_wait_ms_max, waited);
}

void ConnectionPool::try_create_connections(EndpointState& endpoint) {
  // Envoy caps the connections one call opens at 3.
  for (int i = 0; i < 3 && endpoint.pending.size() > endpoint.connecting.size(); ++i) {
    // The oldest request no connection being opened stands for yet: the
    // connection is made with its settings (cluster snapshot, SNI).
    PendingRequest* target = endpoint.pending.front();
    for (size_t n = endpoint.connecting.size(); n > 0; --n) target = PendingQueue::next(*target);
    const ClusterInfo& cluster = target->request_->info();
    SharedClusterState* shared = endpoint.cluster;
    bool over_limit = false;
    if (shared != nullptr && !try_acquire_connection(endpoint, cluster, target->sni_)) {
      ClusterStats::inc(shared->stats().upstream_cx_overflow);
      // The requests wait for one of this pool's connections to free up or
      // close. A pool with none opens one anyway, over the limit, so its
      // queue never waits on connections other pools (other workers, other
      // endpoints of the cluster) hold: Envoy's tryCreateNewConnection.
      if (endpoint.pool_connections != 0) return;
      shared->circuit_breaker().acquire(Resource::Connections);
      over_limit = true;
    }
    int error_no = 0;
    std::unique_ptr<UpstreamConnection> c =
        open(endpoint, cluster, target->request_->endpoint(), target->sni_, error_no);
    c->hold_slots(shared != nullptr, false);
    c->set_idle_timeout_ms(idle_timeout_for(cluster.policy.connection, 0));
    c->start_connecting();
    if (error_no != 0) c->fail_soon(error_no);
    bump(counters_.cx_total);
    endpoint.connecting.push_back(std::move(c));
    if (over_limit) return;
  }
}

bool ConnectionPool::try_acquire_connection(EndpointState& endpoint, const ClusterInfo& cluster,
                                            std::string_view sni) {
  ClusterCircuitBreaker& cb = endpoint.cluster->circuit_breaker();
  const uint64_t limit = cluster.policy.limits.max_connections;
  if (cb.try_acquire(Resource::Connections, limit)) return true;
  // An idle connection made for another SNI is of no use to the waiting
  // requests: it makes room for one that is.
  auto unsuited = std::find_if(endpoint.idle.begin(), endpoint.idle.end(),
                               [&](const auto& c) { return !suits(*c, cluster, sni); });
  if (unsuited == endpoint.idle.end()) return false;
  std::unique_ptr<UpstreamConnection> c = std::move(*unsuited);
  endpoint.idle.erase(unsuited);
  c->connection().close();
  c->release_resources();
  loop_.defer_delete(std::move(c));
  return cb.try_acquire(Resource::Connections, limit);
}

void ConnectionPool::serve(std::unique_ptr<UpstreamConnection> connection, bool fresh) {
  EndpointState& endpoint = connection->endpoint();
  for (;;) {
    PendingRequest* taker = endpoint.pending.front();
    while (taker != nullptr && !suits(*connection, taker->request_->info(), taker->sni_))
      taker = PendingQueue::next(*taker);
    if (taker == nullptr) {
      if (!endpoint.pending.empty()) {
        // Made for a name no waiting request uses: make room for one that is.
        close(std::move(connection));
        return;
      }
      connection->park(connection->idle_timeout_ms());
      endpoint.idle.push_back(std::move(connection));
      return;
    }
    dequeue(*taker);
    if (taker->request_->attach()) {
      taker->on_pool_ready(std::move(connection), fresh);
      return;
    }
    // http2MaxRequests reached: this request fails, the connection stays
    // for the next one (Envoy's attachStreamToClient).
    taker->on_pool_failure(PoolFailure::Overflow, {});
  }
}

void ConnectionPool::on_connect_done(UpstreamConnection& connection) {
  std::unique_ptr<UpstreamConnection> c = take_from(connection.endpoint().connecting, connection);
  if (!c) return;
  c->connected();
  serve(std::move(c), /*fresh=*/true);
}

void ConnectionPool::on_connect_failed(UpstreamConnection& connection, net::CloseReason reason,
                                       int /*error_no*/) {
  EndpointState& endpoint = connection.endpoint();
  std::unique_ptr<UpstreamConnection> c = take_from(endpoint.connecting, connection);
  if (!c) return;
  c->connected();
  const bool timeout = reason == net::CloseReason::ConnectTimeout;
  if (timeout) bump(counters_.cx_connect_timeout);
  bump(counters_.cx_connect_fail);
  if (SharedClusterState* shared = endpoint.cluster; shared != nullptr) {
    if (timeout) ClusterStats::inc(shared->stats().upstream_cx_connect_timeout);
    ClusterStats::inc(shared->stats().upstream_cx_connect_fail);
  }
  // Every request waiting on the endpoint fails (Envoy's purgePendingStreams:
  // a connect failure says the endpoint is in trouble; the router decides
  // about retries). Taken out of the queue first, so a request that enters
  // it again meanwhile is not failed with them.
  const std::string tls_failure = c->connection().tls_failure_reason();
  PendingQueue purged;
  purged.take_all(endpoint.pending);
  while (PendingRequest* r = purged.front()) {
    dequeue(*r);
    if (endpoint.cluster != nullptr)
      ClusterStats::inc(endpoint.cluster->stats().upstream_rq_pending_failure_eject);
    r->on_pool_failure(timeout ? PoolFailure::ConnectTimeout : PoolFailure::ConnectFailed, tls_failure);
  }
  close(std::move(c));
}

void ConnectionPool::offer(UpstreamConnection& connection) {
  EndpointState& endpoint = connection.endpoint();
  if (endpoint.pending.empty()) return;  // stays parked
  std::unique_ptr<UpstreamConnection> c = take_from(endpoint.idle, connection);
  if (c) serve(std::move(c), /*fresh=*/false);
}

// ---- connections ----

std::unique_ptr<UpstreamConnection> ConnectionPool::take_idle(EndpointState& endpoint,
                                                              net::ConnectionCallbacks& user) {
  while (!endpoint.idle.empty()) {
    std::unique_ptr<UpstreamConnection> c = std::move(endpoint.idle.back());
    endpoint.idle.pop_back();
    if (!c->connection().is_open() || c->connection().peer_closed()) {
      close(std::move(c));
      continue;
    }
    c->unpark(user);
    return c;
  }
  return nullptr;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::connect(EndpointState& endpoint, const Endpoint& address,
                                                            uint32_t timeout_ms,
                                                            net::ConnectionCallbacks& user, int& error_no) {
  auto c = std::make_unique<UpstreamConnection>(loop_, *this, endpoint);
  c->connection().set_callbacks(user);
  if (!c->connection().connect(reinterpret_cast<const sockaddr*>(&address.sockaddr), address.sockaddr_len,
                               timeout_ms, error_no)) {
    return nullptr;
  }
  return c;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::open(EndpointState& endpoint, const ClusterInfo& cluster,
                                                         const Endpoint& address, std::string_view sni,
                                                         int& error_no) {
  auto c = std::make_unique<UpstreamConnection>(loop_, *this, endpoint);
  if (cluster.policy.tls.enabled) {
    // Never fall back to plaintext: unusable TLS settings fail the connection.
    if (!cluster.policy.tls.context) {
      error_no = EPROTO;
      return c;
    }
    c->connection().start_tls(
        std::make_unique<net::TlsSession>(cluster.policy.tls.context, std::string(sni)));
  }
  if (!c->connection().connect(reinterpret_cast<const sockaddr*>(&address.sockaddr), address.sockaddr_len,
                               cluster.connect_timeout_ms, error_no)) {
    if (error_no == 0) error_no = EIO;
    return c;
  }
  const ConnectionSettings& settings = cluster.policy.connection;
  if (settings.keepalive) {
    int fd = c->connection().fd();
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    // Zero leaves the OS default (Linux: 9 probes, 7200 s, 75 s).
    auto set = [fd](int option, uint32_t value) {
      if (value == 0) return;
      int v = static_cast<int>(value);
      setsockopt(fd, IPPROTO_TCP, option, &v, sizeof(v));
    };
    set(TCP_KEEPCNT, settings.keepalive_probes);
    set(TCP_KEEPIDLE, settings.keepalive_time_s);
    set(TCP_KEEPINTVL, settings.keepalive_interval_s);
  }
  return c;
}

ConnectionPool::ConnectResult ConnectionPool::connect(EndpointState& endpoint, const ClusterInfo& cluster,
                                                      const Endpoint& address, net::ConnectionCallbacks& user,
                                                      std::string_view sni) {
  ConnectResult result;
  SharedClusterState* shared = endpoint.cluster;
  const CircuitBreakerLimits& limits = cluster.policy.limits;
  if (shared != nullptr) {
    ClusterCircuitBreaker& cb = shared->circuit_breaker();
    if (!cb.try_acquire(Resource::PendingRequests, limits.max_pending_requests)) {
      ClusterStats::inc(shared->stats().upstream_rq_pending_overflow);
      result.status = ConnectResult::Status::PendingOverflow;
      return result;
    }
    if (!cb.try_acquire(Resource::Connections, limits.max_connections)) {
      cb.release(Resource::PendingRequests);
      ClusterStats::inc(shared->stats().upstream_cx_overflow);
      ClusterStats::inc(shared->stats().upstream_rq_pending_overflow);
      result.status = ConnectResult::Status::ConnectionOverflow;
      return result;
    }
    ClusterStats::inc(shared->stats().upstream_rq_pending_total);
    ClusterStats::inc(shared->stats().upstream_rq_pending_active);
  }
  std::unique_ptr<UpstreamConnection> c = open(endpoint, cluster, address, sni, result.error_no);
  c->hold_slots(shared != nullptr, shared != nullptr);
  if (result.error_no != 0) return result;  // `c` gives its slots back as it goes
  c->connection().set_callbacks(user);
  result.status = ConnectResult::Status::Ok;
  result.connection = std::move(c);
  return result;
}

uint32_t ConnectionPool::idle_timeout_for(const ConnectionSettings& settings, uint64_t age_ms) const {
  uint64_t idle =
      settings.idle_timeout_ms < 0 ? idle_timeout_ms_ : static_cast<uint64_t>(settings.idle_timeout_ms);
  if (settings.max_connection_duration_ms > 0) {
    // An idle connection is closed when it reaches its maximum age.
    const uint64_t max_age = static_cast<uint64_t>(settings.max_connection_duration_ms);
    const uint64_t left = age_ms < max_age ? max_age - age_ms : 1;
    idle = idle == 0 ? left : std::min(idle, left);
  }
  return static_cast<uint32_t>(std::min<uint64_t>(idle, UINT32_MAX));
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> connection, const ClusterInfo& cluster) {
  const ConnectionSettings& settings = cluster.policy.connection;
  SharedClusterState* shared = connection->endpoint().cluster;
  uint64_t age = loop_.now_ms() - connection->created_ms();
  bool retire = false;
  if (settings.max_requests_per_connection != 0 &&
      connection->requests_served() >= settings.max_requests_per_connection) {
    retire = true;
    if (shared != nullptr) ClusterStats::inc(shared->stats().upstream_cx_max_requests);
  } else if (settings.max_connection_duration_ms > 0 &&
             age >= static_cast<uint64_t>(settings.max_connection_duration_ms)) {
    retire = true;
    if (shared != nullptr) ClusterStats::inc(shared->stats().upstream_cx_max_duration_reached);
  }
  if (retire) {
    close(std::move(connection));
    return;
  }
  EndpointState& endpoint = connection->endpoint();
  connection->park(idle_timeout_for(settings, age));
  if (!endpoint.pending.empty()) connection->offer_soon();
  endpoint.idle.push_back(std::move(connection));
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> connection) {
  EndpointState& endpoint = connection->endpoint();
  connection->park(idle_timeout_ms_);
  if (!endpoint.pending.empty()) connection->offer_soon();
  endpoint.idle.push_back(std::move(connection));
}

void ConnectionPool::close(std::unique_ptr<UpstreamConnection> connection) {
  EndpointState& endpoint = connection->endpoint();
  connection->connection().close();
  connection->release_resources();
  // We may be inside this connection's own callback: free it later.
  loop_.defer_delete(std::move(connection));
  // Under tcp.maxConnections a slot came free: requests waiting here may
  // get a new connection in its place.
  if (!endpoint.pending.empty()) try_create_connections(endpoint);
}

void ConnectionPool::close_list(std::vector<std::unique_ptr<UpstreamConnection>>& list) {
  for (auto& c : list) {
    c->connection().close();
    c->release_resources();
    loop_.defer_delete(std::move(c));
  }
  list.clear();
}

void ConnectionPool::close_idle(EndpointState& endpoint) {
  close_list(endpoint.idle);
  // Envoy's closeIdleConnectionsForDrainingPool: connections being opened
  // go too unless requests wait for them.
  if (endpoint.pending.empty()) close_list(endpoint.connecting);
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take_from(
    std::vector<std::unique_ptr<UpstreamConnection>>& list, UpstreamConnection& connection) {
  auto it = std::find_if(list.rbegin(), list.rend(), [&](const auto& p) { return p.get() == &connection; });
  if (it == list.rend()) return nullptr;
  std::unique_ptr<UpstreamConnection> owned = std::move(*it);
  list.erase(std::next(it).base());
  return owned;
}

void ConnectionPool::drop_idle(UpstreamConnection& connection) {
  std::unique_ptr<UpstreamConnection> c = take_from(connection.endpoint().idle, connection);
  if (c) close(std::move(c));
}

void ConnectionPool::on_connection_opened() {
  if (counters_.cx_active != nullptr) bump(counters_.cx_active);
}

void ConnectionPool::on_connection_closed() {
  std::atomic<uint64_t>* c = counters_.cx_active;
  if (c != nullptr) c->store(c->load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace torii::upstream
