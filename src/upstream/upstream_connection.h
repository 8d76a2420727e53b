// One connection to an upstream endpoint, pooled per worker.
//
// While in use, its net::Connection reports straight to the request that
// took it (set_callbacks). While the pool holds it, it reports to itself:
// * connecting (opened for the pending queue): the outcome goes to the
//   pool (ConnectionPool::on_connect_done / on_connect_failed);
// * idle: anything arriving (data, EOF, error) or the idle timer means the
//   connection is no longer reusable, so it asks the pool to drop it.
//
// Ownership: the pool (connecting, idle) or the request using it (in use);
// never both.
#pragma once

#include <cstdint>
#include <memory>

#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"

namespace torii::upstream {

struct EndpointState;
class ConnectionPool;
struct Http2ClientSettings;

class UpstreamConnection final : public net::ConnectionCallbacks, public net::Deferrable {
 public:
  UpstreamConnection(net::EventLoop& loop, ConnectionPool& pool, EndpointState& endpoint);
  ~UpstreamConnection() override;

  net::Connection& connection() { return connection_; }
  EndpointState& endpoint() { return endpoint_; }
  // Requests completed on this connection so far (0 => fresh).
  uint32_t requests_served() const { return requests_served_; }
  void count_request_served() { ++requests_served_; }
  uint64_t created_ms() const { return created_ms_; }

  // Circuit-breaker slots this connection holds (taken by the pool when it
  // opened it); given back by release_resources().
  void hold_slots(bool connection_slot, bool pending_slot) {
    holds_cx_slot_ = connection_slot;
    holds_pending_slot_ = pending_slot;
  }
  // A layer-4 tunnel's connection is up: its request is no longer pending.
  void release_pending_slot();
  // The connection is closing: gives its circuit-breaker slots back and
  // leaves the pool's count (EndpointState::pool_connections) now, as
  // Envoy's releaseResources does, not when the object is finally freed at
  // the end of the loop iteration. Idempotent; the destructor calls it too.
  void release_resources();

  // Pool side.
  void park(uint32_t idle_timeout_ms);
  void unpark(net::ConnectionCallbacks& user);
  uint32_t idle_timeout_ms() const { return idle_timeout_ms_; }
  void set_idle_timeout_ms(uint32_t ms) { idle_timeout_ms_ = ms; }
  // Made for HTTP/2 (h2c, or TLS with ALPN h2): once up, an
  // Http2ClientConnection takes it over. `settings` for that codec.
  void set_http2(std::unique_ptr<Http2ClientSettings> settings) { http2_ = std::move(settings); }
  bool http2() const { return http2_ != nullptr; }
  const Http2ClientSettings* http2_settings() const { return http2_.get(); }
  // Requests it stands for while being opened: 1, or an HTTP/2
  // connection's assumed stream limit (Envoy's connecting stream capacity).
  uint64_t stream_capacity() const;
  // Opened for the pending queue: reports its outcome to the pool.
  void start_connecting() { connecting_ = true; }
  bool connecting() const { return connecting_; }
  void connected() { connecting_ = false; }
  // connect() failed at once: report it to the pool once the events at
  // hand are handled (Timer::arm_now), as Envoy raises an immediate connect
  // error as an event: never inside the call that queued the request.
  void fail_soon(int error_no);
  // Parked while requests wait (an exchange just ended on it): offer it to
  // the queue once the events at hand are handled, so what the upstream
  // sent after the response (or its FIN) in this batch is seen first, and
  // the hand-over does not run inside the previous request's callbacks: as
  // Envoy's HTTP/1 pool defers onUpstreamReady to the end of the iteration.
  void offer_soon();

  // Callbacks while the pool holds it.
  void on_connected() override;
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;

 private:
  void on_timer();
  void lost(net::CloseReason reason, int error_no);

  ConnectionPool& pool_;
  EndpointState& endpoint_;
  net::Connection connection_;
  net::Timer timer_;  // idle timeout, or a deferred offer / connect failure
  enum class TimerDue : uint8_t { IdleTimeout, Offer, ConnectFailure };
  TimerDue timer_due_ = TimerDue::IdleTimeout;
  uint32_t requests_served_ = 0;
  uint32_t idle_timeout_ms_ = 0;
  int connect_error_ = 0;
  std::unique_ptr<Http2ClientSettings> http2_;
  uint64_t created_ms_ = 0;
  bool holds_cx_slot_ = false;
  bool holds_pending_slot_ = false;
  bool released_ = false;
  bool connecting_ = false;
};

}  // namespace torii::upstream
