// Per-worker HTTP/1 connection pool: keep-alive connections to upstream
// endpoints, keyed by (cluster, endpoint) through the EndpointState that
// holds them. Reuses the most recently parked connection first (LIFO), closes
// idle ones after `idle_timeout_ms` or as soon as the upstream closes them.
//
// A connection taken from the pool belongs to the caller until it hands it
// back with release() (after a complete, keep-alive exchange) or destroys it.
//
// Loop thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "net/connection.h"
#include "net/event_loop.h"
#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/upstream_connection.h"

namespace torii::upstream {

class ConnectionPool {
 public:
  // `cx_active` (optional) is a gauge of open upstream connections.
  ConnectionPool(net::EventLoop& loop, uint32_t idle_timeout_ms, std::atomic<uint64_t>* cx_active = nullptr);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // The most recently parked idle connection to this endpoint, now reporting
  // to `user`; nullptr if there is none.
  std::unique_ptr<UpstreamConnection> take_idle(EndpointState& endpoint, net::ConnectionCallbacks& user);
  // A new connection, connecting, reporting to `user`. nullptr if the
  // connect failed at once (error_no says why; no callback follows).
  std::unique_ptr<UpstreamConnection> connect(EndpointState& endpoint, const Endpoint& address,
                                              uint32_t timeout_ms, net::ConnectionCallbacks& user,
                                              int& error_no);
  // A new connection for a request to `cluster`, within its circuit
  // breakers (ISTIO_SEMANTICS §5.5): the request counts as pending
  // (http1MaxPendingRequests) until the connection is up, and the
  // connection counts against tcp.maxConnections until it closes. Applies
  // the cluster's connect timeout and TCP keepalive.
  //
  // Torii keeps no queue of requests waiting for a connection: when either
  // limit is reached the answer is Overflow at once (Envoy would first queue
  // up to http1MaxPendingRequests requests for a connection to free up).
  struct ConnectResult {
    enum class Status { Ok, PendingOverflow, ConnectionOverflow, Failed };
    Status status = Status::Failed;
    std::unique_ptr<UpstreamConnection> connection;
    int error_no = 0;
  };
  // `sni`: the name sent when the cluster originates TLS (DestinationRule tls).
  ConnectResult connect(EndpointState& endpoint, const ClusterInfo& cluster, const Endpoint& address,
                        net::ConnectionCallbacks& user, std::string_view sni = {});
  // Parks a connection whose last exchange completed cleanly and may be reused.
  void release(std::unique_ptr<UpstreamConnection> connection);
  // Same, unless the cluster's policy retires it (maxRequestsPerConnection,
  // maxConnectionDuration): then it is closed. Idle timeout from the policy.
  void release(std::unique_ptr<UpstreamConnection> connection, const ClusterInfo& cluster);
  // Closes every idle connection of an endpoint (endpoint removed, drain).
  void close_idle(EndpointState& endpoint);

  // From UpstreamConnection.
  void drop_idle(UpstreamConnection& connection);
  void on_connection_opened();
  void on_connection_closed();

  net::EventLoop& loop() { return loop_; }

 private:
  net::EventLoop& loop_;
  uint32_t idle_timeout_ms_;
  std::atomic<uint64_t>* cx_active_;
};

}  // namespace torii::upstream
