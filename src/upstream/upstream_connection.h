// One connection to an upstream endpoint, pooled per worker.
//
// While in use, its net::Connection reports straight to the request that
// took it (set_callbacks); while idle in the pool it reports to itself, and
// anything arriving then (data, EOF, error) or the idle timer means the
// connection is no longer reusable, so it asks the pool to drop it.
//
// Ownership: the pool (idle) or the request using it (in use); never both.
#pragma once

#include <cstdint>

#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"

namespace torii::upstream {

struct EndpointState;
class ConnectionPool;

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

  // Circuit-breaker slots this connection holds (ConnectionPool::connect
  // took them); released when it connects (pending) or is destroyed (both).
  void hold_slots(bool connection_slot, bool pending_slot) {
    holds_cx_slot_ = connection_slot;
    holds_pending_slot_ = pending_slot;
  }
  // The user saw on_connected(): the request is no longer pending.
  void on_connected();

  // Pool side: park / unpark.
  void park(uint32_t idle_timeout_ms);
  void unpark(net::ConnectionCallbacks& user);

  // Callbacks while idle.
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;

 private:
  void lost();

  ConnectionPool& pool_;
  EndpointState& endpoint_;
  net::Connection connection_;
  net::Timer idle_timer_;
  uint32_t requests_served_ = 0;
  uint64_t created_ms_ = 0;
  bool holds_cx_slot_ = false;
  bool holds_pending_slot_ = false;
};

}  // namespace torii::upstream
