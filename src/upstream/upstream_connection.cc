#include "upstream/upstream_connection.h"

#include "upstream/connection_pool.h"
#include "upstream/endpoint_state.h"
#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

UpstreamConnection::UpstreamConnection(net::EventLoop& loop, ConnectionPool& pool, EndpointState& endpoint)
    : pool_(pool),
      endpoint_(endpoint),
      connection_(loop, *this),
      idle_timer_(loop, [this] { lost(); }),
      created_ms_(loop.now_ms()) {
  ++endpoint_.open_connections;
  pool_.on_connection_opened();
  if (endpoint_.cluster != nullptr) {
    ClusterStats::inc(endpoint_.cluster->stats().upstream_cx_total);
    ClusterStats::inc(endpoint_.cluster->stats().upstream_cx_active);
  }
  if (endpoint_.shared) endpoint_.shared->cx_active.fetch_add(1, std::memory_order_relaxed);
}

UpstreamConnection::~UpstreamConnection() {
  --endpoint_.open_connections;
  pool_.on_connection_closed();
  on_connected();  // a pending slot still held goes back too
  if (endpoint_.cluster != nullptr) {
    if (holds_cx_slot_)
      endpoint_.cluster->circuit_breaker().release(ClusterCircuitBreaker::Resource::Connections);
    ClusterStats::dec(endpoint_.cluster->stats().upstream_cx_active);
  }
  if (endpoint_.shared) endpoint_.shared->cx_active.fetch_sub(1, std::memory_order_relaxed);
}

void UpstreamConnection::on_connected() {
  if (!holds_pending_slot_) return;
  holds_pending_slot_ = false;
  if (endpoint_.cluster != nullptr) {
    endpoint_.cluster->circuit_breaker().release(ClusterCircuitBreaker::Resource::PendingRequests);
    ClusterStats::dec(endpoint_.cluster->stats().upstream_rq_pending_active);
  }
}

void UpstreamConnection::park(uint32_t idle_timeout_ms) {
  connection_.set_callbacks(*this);
  if (idle_timeout_ms != 0) idle_timer_.arm(idle_timeout_ms);
}

void UpstreamConnection::unpark(net::ConnectionCallbacks& user) {
  idle_timer_.cancel();
  connection_.set_callbacks(user);
}

// An idle HTTP/1 connection has nothing to say; bytes, EOF or an error all
// mean the upstream is closing it (or misbehaving). Never reuse it.
void UpstreamConnection::on_data(net::Buffer& input) {
  input.clear();
  lost();
}
void UpstreamConnection::on_eof() { lost(); }
void UpstreamConnection::on_close(net::CloseReason, int) { lost(); }

void UpstreamConnection::lost() {
  connection_.close();
  pool_.drop_idle(*this);
}

}  // namespace torii::upstream
