#include "upstream/upstream_connection.h"

#include <algorithm>

#include "upstream/connection_pool.h"
#include "upstream/endpoint_state.h"
#include "upstream/http2_client.h"
#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

UpstreamConnection::UpstreamConnection(net::EventLoop& loop, ConnectionPool& pool, EndpointState& endpoint)
    : pool_(pool),
      endpoint_(endpoint),
      connection_(loop, *this),
      timer_(loop, [this] { on_timer(); }),
      created_ms_(loop.now_ms()) {
  ++endpoint_.open_connections;
  ++endpoint_.pool_connections;
  pool_.on_connection_opened();
  if (endpoint_.cluster != nullptr) {
    ClusterStats::inc(endpoint_.cluster->stats().upstream_cx_total);
    ClusterStats::inc(endpoint_.cluster->stats().upstream_cx_active);
  }
  if (endpoint_.shared) endpoint_.shared->cx_active.fetch_add(1, std::memory_order_relaxed);
}

uint64_t UpstreamConnection::stream_capacity() const {
  if (!http2_) return 1;
  uint64_t n = http2_->max_concurrent_streams;
  if (http2_->max_requests_per_connection != 0) n = std::min(n, http2_->max_requests_per_connection);
  return n;
}

UpstreamConnection::~UpstreamConnection() {
  release_resources();
  --endpoint_.open_connections;
  pool_.on_connection_closed();
  if (endpoint_.cluster != nullptr) ClusterStats::dec(endpoint_.cluster->stats().upstream_cx_active);
  if (endpoint_.shared) endpoint_.shared->cx_active.fetch_sub(1, std::memory_order_relaxed);
}

void UpstreamConnection::release_pending_slot() {
  if (!holds_pending_slot_) return;
  holds_pending_slot_ = false;
  if (endpoint_.cluster != nullptr) {
    endpoint_.cluster->circuit_breaker().release(ClusterCircuitBreaker::Resource::PendingRequests);
    ClusterStats::dec(endpoint_.cluster->stats().upstream_rq_pending_active);
  }
}

void UpstreamConnection::release_resources() {
  if (released_) return;
  released_ = true;
  timer_.cancel();
  --endpoint_.pool_connections;
  release_pending_slot();
  if (holds_cx_slot_) {
    holds_cx_slot_ = false;
    if (endpoint_.cluster != nullptr)
      endpoint_.cluster->circuit_breaker().release(ClusterCircuitBreaker::Resource::Connections);
  }
}

void UpstreamConnection::park(uint32_t idle_timeout_ms) {
  idle_timeout_ms_ = idle_timeout_ms;
  connection_.set_callbacks(*this);
  timer_due_ = TimerDue::IdleTimeout;
  if (idle_timeout_ms != 0) timer_.arm(idle_timeout_ms);
}

void UpstreamConnection::unpark(net::ConnectionCallbacks& user) {
  timer_.cancel();
  connection_.set_callbacks(user);
}

void UpstreamConnection::fail_soon(int error_no) {
  connect_error_ = error_no;
  timer_due_ = TimerDue::ConnectFailure;
  timer_.arm_now();
}

void UpstreamConnection::offer_soon() {
  timer_due_ = TimerDue::Offer;
  timer_.arm_now();
}

void UpstreamConnection::on_timer() {
  switch (timer_due_) {
    case TimerDue::IdleTimeout:
      lost(net::CloseReason::LocalClose, 0);
      return;
    case TimerDue::Offer:
      // Back to waiting for its idle timeout unless the queue takes it.
      park(idle_timeout_ms_);
      pool_.offer(*this);
      return;
    case TimerDue::ConnectFailure:
      pool_.on_connect_failed(*this, net::CloseReason::ConnectFailed, connect_error_);
      return;
  }
}

void UpstreamConnection::on_connected() {
  if (connecting_) pool_.on_connect_done(*this);
}

// An idle HTTP/1 connection has nothing to say; bytes, EOF or an error all
// mean the upstream is closing it (or misbehaving). Never reuse it.
void UpstreamConnection::on_data(net::Buffer& input) {
  input.clear();
  lost(net::CloseReason::Reset, 0);
}
void UpstreamConnection::on_eof() { lost(net::CloseReason::Reset, 0); }
void UpstreamConnection::on_close(net::CloseReason reason, int error_no) { lost(reason, error_no); }

void UpstreamConnection::lost(net::CloseReason reason, int error_no) {
  if (connecting_) {
    // Refused, timed out, TLS handshake failed, or closed before it was up.
    pool_.on_connect_failed(
        *this, reason == net::CloseReason::ConnectTimeout ? reason : net::CloseReason::ConnectFailed,
        error_no);
    return;
  }
  connection_.close();
  pool_.drop_idle(*this);
}

}  // namespace torii::upstream
