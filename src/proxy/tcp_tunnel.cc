#include "proxy/tcp_tunnel.h"

#include "proxy/worker.h"
#include "telemetry/request_metrics.h"
#include "telemetry/response_flags.h"
#include "upstream/request_hash.h"
#include "upstream/shared_cluster_state.h"

namespace torii::proxy {

namespace {
void cluster_add(upstream::EndpointState* endpoint, std::atomic<uint64_t> upstream::ClusterStats::*stat,
                 uint64_t n = 1) {
  if (endpoint != nullptr && endpoint->cluster != nullptr)
    (endpoint->cluster->stats().*stat).fetch_add(n, std::memory_order_relaxed);
}
}  // namespace

const char* to_string(TunnelFailure failure) {
  switch (failure) {
    case TunnelFailure::NoCluster:
      return "no cluster";
    case TunnelFailure::Overflow:
      return "overflow";
    case TunnelFailure::NoHealthyUpstream:
      return "no healthy upstream";
    case TunnelFailure::ConnectFailed:
      return "connect failed";
    case TunnelFailure::ConnectTimeout:
      return "connect timeout";
  }
  return "?";
}

TcpTunnel::TcpTunnel(Worker& worker, net::Connection& downstream, TcpTunnelTarget target,
                     TcpTunnelCallbacks& callbacks)
    : worker_(worker),
      downstream_(downstream),
      target_(std::move(target)),
      callbacks_(callbacks),
      upstream_side_(*this),
      idle_timer_(worker.loop(), [this] { on_idle_timeout(); }) {}

TcpTunnel::~TcpTunnel() {
  idle_timer_.cancel();
  release_upstream();
}

std::string TcpTunnel::endpoint_address() const {
  if (endpoint_ == nullptr) return {};
  return endpoint_->address + ":" + std::to_string(endpoint_->port);
}

void TcpTunnel::start(net::Buffer initial) {
  if (started_) return;
  started_ = true;
  initial_ = std::move(initial);
  downstream_.set_callbacks(*this);
  downstream_.set_high_watermark(worker_.options().buffer_limit_bytes);
  // Nothing is read from the client until there is somewhere to send it;
  // errors on its socket are still reported.
  downstream_.set_read_enabled(false);
  downstream_eof_ = downstream_.peer_closed();  // the owner may have seen the FIN already
  touch();
  connect();
}

void TcpTunnel::connect() {
  if (target_.cluster == nullptr) {
    WorkerStats::inc(worker_.mutable_stats().no_cluster);
    fail_connect(TunnelFailure::NoCluster, {});
    return;
  }
  const upstream::ClusterInfo& cluster = *target_.cluster;
  upstream::ClusterManager& clusters = worker_.clusters();
  upstream::ClusterState& state = clusters.cluster(cluster);
  // Only the source-IP hash means something without a request.
  std::optional<uint64_t> hash;
  if (cluster.policy->hash.kind == upstream::HashPolicy::Kind::SourceIp) {
    hash = upstream::request_hash(cluster.policy->hash,
                                  upstream::RequestHashInput{nullptr, {}, target_.peer_ip, {}}, nullptr);
  }
  const uint64_t now = worker_.loop().now_ms();
  upstream::ClusterState::Choice choice = state.choose(cluster, hash, clusters.random(), now);
  if (choice.status != upstream::ClusterState::Choice::Status::Ok) {
    upstream::ClusterStats::inc(state.shared().stats().upstream_cx_none_healthy);
    WorkerStats::inc(worker_.mutable_stats().no_healthy_upstream);
    fail_connect(TunnelFailure::NoHealthyUpstream, {});
    return;
  }
  if (choice.panic) upstream::ClusterStats::inc(state.shared().stats().lb_healthy_panic);
  endpoint_state_ = &state.endpoint_state(choice.index);
  endpoint_ = &cluster.endpoints[choice.index];
  // Least-request balancing counts tunnels like requests in flight.
  ++endpoint_state_->active_requests;
  counted_active_ = true;

  WorkerStats& stats = worker_.mutable_stats();
  WorkerStats::inc(stats.upstream_cx_total);
  upstream::ConnectionPool::ConnectResult r =
      clusters.pool().connect(*endpoint_state_, cluster, *endpoint_, upstream_side_, target_.sni);
  using Status = upstream::ConnectionPool::ConnectResult::Status;
  if (r.status == Status::PendingOverflow || r.status == Status::ConnectionOverflow) {
    fail_connect(TunnelFailure::Overflow, {});
    return;
  }
  if (!r.connection) {
    WorkerStats::inc(stats.upstream_cx_connect_fail);
    cluster_add(endpoint_state_, &upstream::ClusterStats::upstream_cx_connect_fail);
    report_outcome(false, false);
    fail_connect(TunnelFailure::ConnectFailed, {});
    return;
  }
  upstream_ = std::move(r.connection);
  net::Connection& up = upstream_->connection();
  up.set_high_watermark(worker_.options().buffer_limit_bytes);
  // Queued now, sent once the connection (and its TLS, if any) is up.
  if (!initial_.empty()) {
    bytes_up_ += initial_.size();
    up.output().move_from(initial_);
  }
}

void TcpTunnel::fail_connect(TunnelFailure failure, std::string_view transport_failure) {
  switch (failure) {
    case TunnelFailure::NoCluster:
      response_flags_ |= flag::NC;
      break;
    case TunnelFailure::Overflow:
      response_flags_ |= flag::UO;
      break;
    case TunnelFailure::NoHealthyUpstream:
      response_flags_ |= flag::UH;
      break;
    case TunnelFailure::ConnectFailed:
    case TunnelFailure::ConnectTimeout:
      response_flags_ |= flag::UF;
      break;
  }
  release_upstream();
  callbacks_.on_tunnel_connect_failed(*this, failure, transport_failure);
  if (finished_) return;
  closing_ = true;
  // Flushes what the owner wrote (a CONNECT 503), then FIN; on_close follows.
  close_gracefully(downstream_);
  if (pending_closes_ == 0) finish();
}

void TcpTunnel::close_gracefully(net::Connection& connection) {
  if (!connection.is_open()) return;
  connection.close_after_flush();
  if (connection.is_open()) ++pending_closes_;  // on_close(LocalClose) will follow
}

void TcpTunnel::on_graceful_close_done() {
  if (pending_closes_ > 0) --pending_closes_;
  if (pending_closes_ == 0) finish();
}

void TcpTunnel::report_outcome(bool success, bool timeout) {
  if (endpoint_state_ == nullptr || endpoint_state_->cluster == nullptr || target_.cluster == nullptr) return;
  using Result = upstream::OutlierDetector::Result;
  const Result result =
      success ? Result::ConnectSuccess : (timeout ? Result::Timeout : Result::ConnectFailed);
  if (!success) endpoint_state_->shared->rq_error.fetch_add(1, std::memory_order_relaxed);
  endpoint_state_->cluster->outlier_detector().put_result(
      *endpoint_state_->shared, result, target_.cluster->policy->outlier, target_.cluster->endpoints.size(),
      worker_.loop().now_ms());
}

void TcpTunnel::on_upstream_connected() {
  if (finished_ || !upstream_) return;
  upstream_->release_pending_slot();  // no longer pending (circuit breaker)
  report_outcome(true, false);
  connected_ = true;
  callbacks_.on_tunnel_connected(*this);
  if (finished_) return;
  touch();
  downstream_.flush();  // whatever the owner answered (CONNECT's 200)
  // Bytes the client sent before we connected (or the owner had buffered).
  if (!downstream_.input().empty())
    pump(downstream_.input(), upstream_->connection(), downstream_, bytes_up_);
  upstream_->connection().flush();
  // Reading resumes (an EOF seen meanwhile is delivered then) unless the
  // early bytes already filled the upstream buffer.
  if (!upstream_->connection().above_high_watermark()) downstream_.set_read_enabled(true);
  if (downstream_eof_) {
    upstream_->connection().shutdown_write();
    maybe_finish();
  }
}

void TcpTunnel::pump(net::Buffer& from, net::Connection& to, net::Connection& source, uint64_t& counter) {
  const size_t n = from.size();
  if (n == 0) return;
  counter += n;
  if (&to == &downstream_) {
    cluster_add(endpoint_state_, &upstream::ClusterStats::upstream_cx_rx_bytes_total, n);
  } else {
    cluster_add(endpoint_state_, &upstream::ClusterStats::upstream_cx_tx_bytes_total, n);
  }
  to.output().move_from(from);
  to.flush();
  touch();
  // Back-pressure: stop reading this side until the other side drains.
  if (to.above_high_watermark()) {
    source.set_read_enabled(false);
    WorkerStats::inc(worker_.mutable_stats().tcp_flow_paused_reading);
  }
}

// ---- downstream side ----

void TcpTunnel::on_data(net::Buffer& input) {
  if (finished_ || closing_ || !connected_ || !upstream_) {
    if (closing_) input.clear();
    return;  // while connecting, reading is paused; bytes stay queued
  }
  pump(input, upstream_->connection(), downstream_, bytes_up_);
}

void TcpTunnel::on_eof() {
  if (finished_ || closing_) return;
  downstream_eof_ = true;
  if (!connected_ || !upstream_) return;  // forwarded by on_upstream_connected()
  // Half-close: the upstream gets our FIN after every byte before it.
  upstream_->connection().shutdown_write();
  maybe_finish();
}

void TcpTunnel::on_close(net::CloseReason /*reason*/, int /*error_no*/) {
  if (finished_) return;
  if (closing_) {
    // Our own close_after_flush of the downstream completed (or failed).
    on_graceful_close_done();
    return;
  }
  // The client reset (or failed): flush what the upstream has queued, then close it.
  close_other_side(/*upstream_gone=*/false);
}

void TcpTunnel::on_output_drained() {
  if (finished_ || !upstream_ || upstream_eof_) return;
  if (!upstream_->connection().read_enabled()) {
    upstream_->connection().set_read_enabled(true);
    WorkerStats::inc(worker_.mutable_stats().tcp_flow_resumed_reading);
  }
}

// ---- upstream side ----

void TcpTunnel::on_upstream_data(net::Buffer& input) {
  if (finished_ || closing_) {
    input.clear();
    return;
  }
  pump(input, downstream_, upstream_->connection(), bytes_down_);
}

void TcpTunnel::on_upstream_eof() {
  if (finished_ || closing_) return;
  upstream_eof_ = true;
  downstream_.shutdown_write();
  maybe_finish();
}

void TcpTunnel::on_upstream_close(net::CloseReason reason, int /*error_no*/) {
  if (finished_) return;
  if (!connected_) {
    WorkerStats& stats = worker_.mutable_stats();
    const bool timeout = reason == net::CloseReason::ConnectTimeout;
    if (timeout) {
      WorkerStats::inc(stats.upstream_cx_connect_timeout);
      cluster_add(endpoint_state_, &upstream::ClusterStats::upstream_cx_connect_timeout);
    }
    WorkerStats::inc(stats.upstream_cx_connect_fail);
    cluster_add(endpoint_state_, &upstream::ClusterStats::upstream_cx_connect_fail);
    report_outcome(false, timeout);
    std::string transport = upstream_ ? upstream_->connection().tls_failure_reason() : std::string();
    fail_connect(timeout ? TunnelFailure::ConnectTimeout : TunnelFailure::ConnectFailed, transport);
    return;
  }
  if (closing_) {
    on_graceful_close_done();
    return;
  }
  close_other_side(/*upstream_gone=*/true);
}

void TcpTunnel::on_upstream_drained() {
  if (finished_ || !connected_ || downstream_eof_ || closing_) return;
  if (!downstream_.read_enabled()) {
    downstream_.set_read_enabled(true);
    WorkerStats::inc(worker_.mutable_stats().tcp_flow_resumed_reading);
  }
}

// ---- teardown ----

void TcpTunnel::maybe_finish() {
  if (!downstream_eof_ || !upstream_eof_) return;
  // Both FINs seen; wait until both of ours went out (queued bytes first).
  net::Connection& up = upstream_->connection();
  if (!downstream_.output().empty() || !up.output().empty()) {
    // Let the queued bytes (and our FINs) go out first.
    closing_ = true;
    close_gracefully(downstream_);
    close_gracefully(up);
    if (pending_closes_ == 0) finish();
    return;
  }
  finish();
}

void TcpTunnel::close_other_side(bool upstream_gone) {
  closing_ = true;
  net::Connection* other = nullptr;
  if (upstream_gone) {
    other = &downstream_;
    release_upstream();
  } else {
    downstream_.close();
    other = upstream_ ? &upstream_->connection() : nullptr;
  }
  // Envoy closes the survivor with FlushWrite.
  if (other != nullptr) close_gracefully(*other);
  if (pending_closes_ == 0) finish();
}

void TcpTunnel::abort() {
  if (finished_) return;
  finished_ = true;
  idle_timer_.cancel();
  // Istio's TCP metrics, once per connection at its end (Envoy also
  // reports open connections every 5 s; see docs/metrics.md).
  telemetry::TcpConnectionRecord record;
  record.cluster = target_.cluster;
  record.endpoint = connected_ ? endpoint_ : nullptr;
  record.response_flags = response_flags_;
  record.received_bytes = bytes_up_;
  record.sent_bytes = bytes_down_;
  worker_.mutable_metrics().record_tcp(record);
  release_upstream();
  downstream_.close();
}

void TcpTunnel::finish() {
  if (finished_) return;
  finished_ = true;
  idle_timer_.cancel();
  // Istio's TCP metrics, once per connection at its end (Envoy also
  // reports open connections every 5 s; see docs/metrics.md).
  telemetry::TcpConnectionRecord record;
  record.cluster = target_.cluster;
  record.endpoint = connected_ ? endpoint_ : nullptr;
  record.response_flags = response_flags_;
  record.received_bytes = bytes_up_;
  record.sent_bytes = bytes_down_;
  worker_.mutable_metrics().record_tcp(record);
  release_upstream();
  if (downstream_.is_open()) downstream_.close();
  callbacks_.on_tunnel_closed(*this);
}

void TcpTunnel::release_upstream() {
  if (counted_active_) {
    counted_active_ = false;
    --endpoint_state_->active_requests;
  }
  if (!upstream_) return;
  upstream_->connection().close();
  // We may be inside this connection's own callback: free it later.
  worker_.loop().defer_delete(std::move(upstream_));
}

void TcpTunnel::touch() {
  const uint32_t timeout = worker_.options().tcp_idle_timeout_ms;
  if (timeout == 0) return;
  // Re-arming to a later deadline only records it (net/timer.h).
  idle_timer_.arm(timeout);
}

void TcpTunnel::on_idle_timeout() {
  if (finished_) return;
  WorkerStats::inc(worker_.mutable_stats().tcp_idle_timeout);
  // Envoy closes both sides without flushing on idle timeout.
  release_upstream();
  finish();
}

}  // namespace torii::proxy
