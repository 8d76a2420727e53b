#include "upstream/connection_pool.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "upstream/cluster_request.h"
#include "upstream/http2_client.h"
#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

namespace {

using Resource = ClusterCircuitBreaker::Resource;

// A connection of the other HTTP version, or (TLS origination) made for
// another SNI, does not carry the request.
bool suits(UpstreamConnection& connection, const ClusterInfo& cluster, std::string_view sni, bool http2) {
  if (connection.http2() != http2) return false;
  if (!cluster.policy->tls.enabled) return true;
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
    if (out && !suits(*out, cluster, sni, false)) close(std::move(out));
    if (out) {
      if (request.attach()) return StreamStatus::Ready;
      release(std::move(out), cluster);  // still idle, for a request under the limit
      return StreamStatus::Overflow;
    }
  }
  return enqueue(request, pending, sni, false);
}

ConnectionPool::StreamStatus ConnectionPool::enqueue(ClusterRequest& request, PendingRequest& pending,
                                                     std::string_view sni, bool http2) {
  EndpointState& endpoint = request.endpoint_state();
  if (SharedClusterState* shared = endpoint.cluster; shared != nullptr) {
    if (!shared->circuit_breaker().try_acquire(Resource::PendingRequests,
                                               request.info().policy->limits.max_pending_requests)) {
      ClusterStats::inc(shared->stats().upstream_rq_pending_overflow);
      return StreamStatus::Overflow;
    }
    ClusterStats::inc(shared->stats().upstream_rq_pending_total);
    ClusterStats::inc(shared->stats().upstream_rq_pending_active);
  }
  pending.request_ = &request;
  pending.sni_ = sni;
  pending.queued_ms_ = loop_.now_ms();
  pending.http2_ = http2;
  if (http2) ++endpoint.pending_http2;
  endpoint.pending.push_back(pending);
  try_create_connections(endpoint);
  return StreamStatus::Queued;
}

ConnectionPool::StreamStatus ConnectionPool::new_http2_stream(ClusterRequest& request,
                                                              PendingRequest& pending, std::string_view sni,
                                                              Http2ClientConnection*& out) {
  EndpointState& endpoint = request.endpoint_state();
  const ClusterInfo& cluster = request.info();
  // Envoy attaches to the first ready client with room.
  for (const std::unique_ptr<Http2ClientConnection>& c : endpoint.http2) {
    if (c->capacity() == 0 || !suits(c->upstream(), cluster, sni, true)) continue;
    if (!request.attach()) return StreamStatus::Overflow;  // http2MaxRequests
    out = c.get();
    return StreamStatus::Ready;
  }
  return enqueue(request, pending, sni, true);
}

void ConnectionPool::set_http2_defaults(const Http2ClientSettings& defaults) {
  http2_defaults_ = std::make_unique<Http2ClientSettings>(defaults);
}

std::unique_ptr<Http2ClientSettings> ConnectionPool::http2_settings_for(const ClusterInfo& cluster) const {
  auto s = http2_defaults_ ? std::make_unique<Http2ClientSettings>(*http2_defaults_)
                           : std::make_unique<Http2ClientSettings>();
  const ConnectionSettings& c = cluster.policy->connection;
  s->max_concurrent_streams = std::max<uint32_t>(1, c.max_concurrent_streams);
  s->max_requests_per_connection = c.max_requests_per_connection;
  s->idle_timeout_ms = c.idle_timeout_ms < 0
                           ? idle_timeout_ms_
                           : static_cast<uint32_t>(std::min<int64_t>(c.idle_timeout_ms, UINT32_MAX));
  s->max_duration_ms = c.max_connection_duration_ms;
  return s;
}

void ConnectionPool::cancel(PendingRequest& pending) {
  if (!pending.queued()) return;
  EndpointState& endpoint = pending.request_->endpoint_state();
  const bool http2 = pending.http2_;
  dequeue(pending);
  if (endpoint.cluster != nullptr) ClusterStats::inc(endpoint.cluster->stats().upstream_rq_cancelled);
  // Connections being opened beyond what the remaining requests of that
  // protocol need go (the newest first).
  const uint64_t waiting = http2 ? endpoint.pending_http2 : endpoint.pending.size() - endpoint.pending_http2;
  uint64_t capacity = 0;
  for (const auto& c : endpoint.connecting) {
    if (c->http2() == http2) capacity += c->stream_capacity();
  }
  for (size_t i = endpoint.connecting.size(); i > 0 && capacity > waiting; --i) {
    if (endpoint.connecting[i - 1]->http2() != http2) continue;
    const uint64_t its = endpoint.connecting[i - 1]->stream_capacity();
    if (capacity - its < waiting) break;  // still needed for part of them
    capacity -= its;
    std::unique_ptr<UpstreamConnection> excess = std::move(endpoint.connecting[i - 1]);
    endpoint.connecting.erase(endpoint.connecting.begin() + static_cast<std::ptrdiff_t>(i - 1));
    excess->connected();  // closed by us: no failure to report
    close(std::move(excess));
  }
}

void ConnectionPool::dequeue(PendingRequest& pending) {
  EndpointState& endpoint = pending.request_->endpoint_state();
  // pending_http2 counts the endpoint's own queue only (not a purge list).
  if (pending.http2_ && pending.queue_ == &endpoint.pending) --endpoint.pending_http2;
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
  bool stop = false;
  for (int i = 0; i < 3 && !stop;) {
    bool opened = false;
    if (endpoint.pending.size() > endpoint.pending_http2 && create_connection(endpoint, false, stop)) {
      opened = true;
      ++i;
    }
    if (i < 3 && !stop && endpoint.pending_http2 != 0 && create_connection(endpoint, true, stop)) {
      opened = true;
      ++i;
    }
    if (!opened) return;
  }
}

bool ConnectionPool::create_connection(EndpointState& endpoint, bool http2, bool& stop) {
  // What the connections being opened for this protocol stand for (an
  // HTTP/2 one for its stream limit, Envoy's connecting stream capacity),
  // against the requests of the protocol that wait.
  uint64_t covered = 0;
  for (const auto& c : endpoint.connecting) {
    if (c->http2() == http2) covered += c->stream_capacity();
  }
  const uint64_t waiting = http2 ? endpoint.pending_http2 : endpoint.pending.size() - endpoint.pending_http2;
  if (waiting <= covered) return false;
  // The oldest request no connection being opened stands for yet: the
  // connection is made with its settings (cluster snapshot, SNI).
  PendingRequest* target = endpoint.pending.front();
  for (uint64_t seen = 0;; target = PendingQueue::next(*target)) {
    if (target == nullptr) return false;  // never: `waiting` counts the queue
    if (target->http2_ != http2) continue;
    if (seen++ == covered) break;
  }
  const ClusterInfo& cluster = target->request_->info();
  SharedClusterState* shared = endpoint.cluster;
  bool over_limit = false;
  if (shared != nullptr && !try_acquire_connection(endpoint, cluster, target->sni_)) {
    ClusterStats::inc(shared->stats().upstream_cx_overflow);
    // The requests wait for one of this pool's connections to free up or
    // close. A pool with none opens one anyway, over the limit, so its
    // queue never waits on connections other pools (other workers, other
    // endpoints of the cluster) hold: Envoy's tryCreateNewConnection.
    stop = true;
    if (endpoint.pool_connections != 0) return false;
    shared->circuit_breaker().acquire(Resource::Connections);
    over_limit = true;
  }
  int error_no = 0;
  std::unique_ptr<UpstreamConnection> c =
      open(endpoint, cluster, target->request_->endpoint(), target->sni_, error_no, http2);
  c->hold_slots(shared != nullptr, false);
  c->set_idle_timeout_ms(idle_timeout_for(cluster.policy->connection, 0));
  if (http2) c->set_http2(http2_settings_for(cluster));
  c->start_connecting();
  if (error_no != 0) c->fail_soon(error_no);
  bump(counters_.cx_total);
  if (shared != nullptr)
    ClusterStats::inc(http2 ? shared->stats().upstream_cx_http2_total
                            : shared->stats().upstream_cx_http1_total);
  endpoint.connecting.push_back(std::move(c));
  stop = stop || over_limit;
  return true;
}

bool ConnectionPool::try_acquire_connection(EndpointState& endpoint, const ClusterInfo& cluster,
                                            std::string_view sni) {
  ClusterCircuitBreaker& cb = endpoint.cluster->circuit_breaker();
  const uint64_t limit = cluster.policy->limits.max_connections;
  if (cb.try_acquire(Resource::Connections, limit)) return true;
  // An idle connection made for another SNI is of no use to the waiting
  // requests: it makes room for one that is.
  auto unsuited = std::find_if(endpoint.idle.begin(), endpoint.idle.end(),
                               [&](const auto& c) { return !suits(*c, cluster, sni, false); });
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
  if (connection->http2()) {
    // The HTTP/2 codec takes the connection over and serves the queue.
    Http2ClientCounters counters;
    if (SharedClusterState* shared = endpoint.cluster; shared != nullptr) {
      ClusterStats& s = shared->stats();
      counters = Http2ClientCounters{&s.http2_rx_reset,           &s.http2_tx_reset,
                                     &s.http2_trailers,           &s.upstream_cx_close_notify,
                                     &s.http2_rx_messaging_error, &s.http2_streams_active,
                                     &s.upstream_cx_max_requests, &s.upstream_cx_max_duration_reached,
                                     &s.upstream_cx_idle_timeout};
    }
    const Http2ClientSettings settings = *connection->http2_settings();
    auto owned = std::make_unique<Http2ClientConnection>(*this, std::move(connection), settings, counters);
    Http2ClientConnection& c = *owned;
    endpoint.http2.push_back(std::move(owned));
    c.start();  // may close it at once: the pool then forgets it (on_http2_closed)
    if (!c.closed()) serve_http2(c, fresh);
    return;
  }
  for (;;) {
    PendingRequest* taker = endpoint.pending.front();
    while (taker != nullptr && !suits(*connection, taker->request_->info(), taker->sni_, taker->http2_))
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

void ConnectionPool::serve_http2(Http2ClientConnection& connection, bool fresh) {
  EndpointState& endpoint = connection.endpoint();
  // The oldest waiting HTTP/2 requests, as many as the connection has room
  // for. From the front each time: a callback may change the queue.
  while (endpoint.pending_http2 != 0 && connection.capacity() != 0) {
    PendingRequest* taker = endpoint.pending.front();
    while (taker != nullptr &&
           !(taker->http2_ && suits(connection.upstream(), taker->request_->info(), taker->sni_, true)))
      taker = PendingQueue::next(*taker);
    if (taker == nullptr) return;
    dequeue(*taker);
    if (taker->request_->attach()) {
      taker->on_pool_ready(connection, fresh);
      fresh = false;  // one connect success to report
    } else {
      taker->on_pool_failure(PoolFailure::Overflow, {});  // http2MaxRequests
    }
  }
  // Requests still waiting (the server allows fewer streams than assumed):
  // more connections, within the limits.
  if (endpoint.pending_http2 != 0) try_create_connections(endpoint);
}

void ConnectionPool::on_http2_closed(Http2ClientConnection& connection) {
  EndpointState& endpoint = connection.endpoint();
  auto it = std::find_if(endpoint.http2.begin(), endpoint.http2.end(),
                         [&](const auto& c) { return c.get() == &connection; });
  if (it == endpoint.http2.end()) return;
  std::unique_ptr<Http2ClientConnection> owned = std::move(*it);
  endpoint.http2.erase(it);
  owned->upstream().connection().close();
  owned->upstream().release_resources();
  // We are inside its own callback: free it later.
  loop_.defer_delete(std::move(owned));
  if (!endpoint.pending.empty()) try_create_connections(endpoint);
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
  endpoint.pending_http2 = 0;
  // Requests for the other HTTP version wait on their own connections.
  for (PendingRequest* r = purged.front(); r != nullptr;) {
    PendingRequest* next = PendingQueue::next(*r);
    if (r->http2_ != c->http2()) {
      purged.remove(*r);
      endpoint.pending.push_back(*r);
      if (r->http2_) ++endpoint.pending_http2;
    }
    r = next;
  }
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
                                                         int& error_no, bool http2) {
  auto c = std::make_unique<UpstreamConnection>(loop_, *this, endpoint);
  if (cluster.policy->tls.enabled) {
    // useClientProtocol: an HTTP/2 connection offers ALPN h2 (its own context).
    const std::shared_ptr<const net::TlsContext>& context =
        http2 && cluster.policy->protocol == UpstreamProtocol::Downstream ? cluster.policy->tls.context_h2
                                                                          : cluster.policy->tls.context;
    // Never fall back to plaintext: unusable TLS settings fail the connection.
    if (!context) {
      error_no = EPROTO;
      return c;
    }
    c->connection().start_tls(std::make_unique<net::TlsSession>(context, std::string(sni)));
  }
  if (!c->connection().connect(reinterpret_cast<const sockaddr*>(&address.sockaddr), address.sockaddr_len,
                               cluster.connect_timeout_ms, error_no)) {
    if (error_no == 0) error_no = EIO;
    return c;
  }
  const ConnectionSettings& settings = cluster.policy->connection;
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
  const CircuitBreakerLimits& limits = cluster.policy->limits;
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
  const ConnectionSettings& settings = cluster.policy->connection;
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
  // HTTP/2 connections take no new streams; idle ones close now.
  std::vector<Http2ClientConnection*> http2;
  for (const auto& c : endpoint.http2) http2.push_back(c.get());
  for (Http2ClientConnection* c : http2) c->drain();
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
