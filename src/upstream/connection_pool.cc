#include "upstream/connection_pool.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

ConnectionPool::ConnectionPool(net::EventLoop& loop, uint32_t idle_timeout_ms,
                               std::atomic<uint64_t>* cx_active)
    : loop_(loop), idle_timeout_ms_(idle_timeout_ms), cx_active_(cx_active) {}

std::unique_ptr<UpstreamConnection> ConnectionPool::take_idle(EndpointState& endpoint,
                                                              net::ConnectionCallbacks& user) {
  while (!endpoint.idle.empty()) {
    std::unique_ptr<UpstreamConnection> c = std::move(endpoint.idle.back());
    endpoint.idle.pop_back();
    if (!c->connection().is_open() || c->connection().peer_closed()) {
      loop_.defer_delete(std::move(c));
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

ConnectionPool::ConnectResult ConnectionPool::connect(EndpointState& endpoint, const ClusterInfo& cluster,
                                                      const Endpoint& address, net::ConnectionCallbacks& user,
                                                      std::string_view sni) {
  ConnectResult result;
  SharedClusterState* shared = endpoint.cluster;
  const CircuitBreakerLimits& limits = cluster.policy.limits;
  if (shared != nullptr) {
    ClusterCircuitBreaker& cb = shared->circuit_breaker();
    if (!cb.try_acquire(ClusterCircuitBreaker::Resource::PendingRequests, limits.max_pending_requests)) {
      ClusterStats::inc(shared->stats().upstream_rq_pending_overflow);
      result.status = ConnectResult::Status::PendingOverflow;
      return result;
    }
    if (!cb.try_acquire(ClusterCircuitBreaker::Resource::Connections, limits.max_connections)) {
      cb.release(ClusterCircuitBreaker::Resource::PendingRequests);
      ClusterStats::inc(shared->stats().upstream_cx_overflow);
      ClusterStats::inc(shared->stats().upstream_rq_pending_overflow);
      result.status = ConnectResult::Status::ConnectionOverflow;
      return result;
    }
    ClusterStats::inc(shared->stats().upstream_rq_pending_total);
    ClusterStats::inc(shared->stats().upstream_rq_pending_active);
  }
  auto c = std::make_unique<UpstreamConnection>(loop_, *this, endpoint);
  c->hold_slots(shared != nullptr, shared != nullptr);
  c->connection().set_callbacks(user);
  if (cluster.policy.tls.enabled) {
    // Never fall back to plaintext: unusable TLS settings fail the connection.
    if (!cluster.policy.tls.context) {
      result.error_no = EPROTO;
      return result;
    }
    c->connection().start_tls(
        std::make_unique<net::TlsSession>(cluster.policy.tls.context, std::string(sni)));
  }
  if (!c->connection().connect(reinterpret_cast<const sockaddr*>(&address.sockaddr), address.sockaddr_len,
                               cluster.connect_timeout_ms, result.error_no)) {
    return result;  // `c` gives its slots back as it goes
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
  result.status = ConnectResult::Status::Ok;
  result.connection = std::move(c);
  return result;
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
    connection->connection().close();
    loop_.defer_delete(std::move(connection));
    return;
  }
  uint64_t idle =
      settings.idle_timeout_ms < 0 ? idle_timeout_ms_ : static_cast<uint64_t>(settings.idle_timeout_ms);
  if (settings.max_connection_duration_ms > 0) {
    // An idle connection is closed when it reaches its maximum age.
    uint64_t left = static_cast<uint64_t>(settings.max_connection_duration_ms) - age;
    idle = idle == 0 ? left : std::min(idle, left);
  }
  EndpointState& endpoint = connection->endpoint();
  connection->park(static_cast<uint32_t>(std::min<uint64_t>(idle, UINT32_MAX)));
  endpoint.idle.push_back(std::move(connection));
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> connection) {
  EndpointState& endpoint = connection->endpoint();
  connection->park(idle_timeout_ms_);
  endpoint.idle.push_back(std::move(connection));
}

void ConnectionPool::close_idle(EndpointState& endpoint) {
  for (auto& c : endpoint.idle) {
    c->connection().close();
    loop_.defer_delete(std::move(c));
  }
  endpoint.idle.clear();
}

void ConnectionPool::drop_idle(UpstreamConnection& connection) {
  auto& idle = connection.endpoint().idle;
  auto it = std::find_if(idle.rbegin(), idle.rend(), [&](const auto& p) { return p.get() == &connection; });
  if (it == idle.rend()) return;
  std::unique_ptr<UpstreamConnection> owned = std::move(*it);
  idle.erase(std::next(it).base());
  loop_.defer_delete(std::move(owned));
}

void ConnectionPool::on_connection_opened() {
  if (cx_active_ != nullptr)
    cx_active_->store(cx_active_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void ConnectionPool::on_connection_closed() {
  if (cx_active_ != nullptr)
    cx_active_->store(cx_active_->load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace torii::upstream
