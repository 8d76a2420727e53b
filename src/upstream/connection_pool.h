// Per-worker HTTP/1 connection pool: keep-alive connections to upstream
// endpoints, keyed by (cluster, endpoint) through the EndpointState that
// holds them. Reuses the most recently parked connection first (LIFO), closes
// idle ones after `idle_timeout_ms` or as soon as the upstream closes them.
//
// Requests get connections through new_stream(), which is Envoy's
// ConnPoolImplBase::newStream for an HTTP/1 pool (ISTIO_SEMANTICS §5.5,
// source/common/conn_pool/conn_pool_base.cc):
// * an idle connection if the endpoint has one; the request then takes an
//   http2MaxRequests slot (ClusterRequest::attach) or gets 503 UO;
// * otherwise the request waits in the endpoint's queue, up to
//   http1MaxPendingRequests across the gateway (beyond: 503 UO,
//   upstream_rq_pending_overflow), and the pool opens connections while
//   more requests wait than connections are being opened, within
//   tcp.maxConnections (beyond: upstream_cx_overflow, and the request waits
//   for a connection to free up or to close). As in Envoy, an endpoint's
//   pool that has no connection at all opens one even over the limit, so a
//   worker's queue never waits on connections other workers hold;
// * a connection that comes up, or finishes a keep-alive exchange while
//   requests wait, goes to the oldest of them (first in, first out);
// * a connection that fails to connect fails every request waiting on the
//   endpoint (Envoy's purgePendingStreams: upstream_rq_pending_failure_eject).
// Nothing bounds the wait but the request's own route timeout and the
// connect timeout of the connections opened for the queue (Envoy has no
// queue timeout either); a request that gives up leaves the queue (cancel).
//
// The queue and the connections are per worker, as Envoy's pools are per
// worker thread; the limits are per cluster across workers (shared atomics
// in SharedClusterState, no lock).
//
// A connection taken from the pool belongs to the caller until it hands it
// back with release() (after a complete, keep-alive exchange) or close().
//
// Loop thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "net/connection.h"
#include "net/event_loop.h"
#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/http2_client.h"
#include "upstream/pending_request.h"
#include "upstream/upstream_connection.h"

namespace torii::upstream {

class ClusterRequest;
class Http2ClientConnection;

// The worker's own connection counters (proxy/stats.h), each optional.
struct PoolCounters {
  std::atomic<uint64_t>* cx_active = nullptr;  // gauge: open upstream connections
  std::atomic<uint64_t>* cx_total = nullptr;   // opened for the queue
  std::atomic<uint64_t>* cx_connect_fail = nullptr;
  std::atomic<uint64_t>* cx_connect_timeout = nullptr;
};

class ConnectionPool {
 public:
  using Counters = PoolCounters;

  ConnectionPool(net::EventLoop& loop, uint32_t idle_timeout_ms, Counters counters = {});
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // ---- HTTP requests ----
  enum class StreamStatus {
    Ready,     // `out` holds an idle connection, reporting to `user`; the request is attached
    Queued,    // `pending` waits in the endpoint's queue; on_pool_ready / on_pool_failure follow
    Overflow,  // http1MaxPendingRequests or http2MaxRequests reached: 503 UO
  };
  // A connection for `request` (started: it chose its endpoint). `sni`: the
  // name TLS origination uses for it; only a connection made for the same
  // name is reused. `allow_idle` false: open a new connection (or wait for
  // one) and close the endpoint's idle ones, which are suspect: a kept-alive
  // connection just failed under the request.
  StreamStatus new_stream(ClusterRequest& request, PendingRequest& pending, std::string_view sni,
                          net::ConnectionCallbacks& user, bool allow_idle,
                          std::unique_ptr<UpstreamConnection>& out);
  // HTTP/2 (the cluster's protocol, or the client's under useClientProtocol):
  // a connection of the endpoint with room for one more stream (Ready: `out`
  // is it, the request is attached and opens its stream at once), else the
  // request waits in the endpoint's queue, with the same limits as above,
  // while the pool opens connections for it; Envoy's HTTP/2 ConnPoolImpl.
  StreamStatus new_http2_stream(ClusterRequest& request, PendingRequest& pending, std::string_view sni,
                                Http2ClientConnection*& out);
  // Worker-wide HTTP/2 settings (windows, buffer and header limits); the
  // cluster's policy adds its own per connection.
  void set_http2_defaults(const Http2ClientSettings& defaults);

  // The request gives up waiting (route timeout, downstream reset, retry):
  // it leaves the queue (upstream_rq_cancelled), and a connection being
  // opened that no request waits for any more is closed (Envoy's
  // CancelPolicy::CloseExcess).
  void cancel(PendingRequest& pending);

  // ---- connections ----
  // The most recently parked idle connection to this endpoint, now reporting
  // to `user`; nullptr if there is none.
  std::unique_ptr<UpstreamConnection> take_idle(EndpointState& endpoint, net::ConnectionCallbacks& user);
  // A new connection, connecting, reporting to `user`. nullptr if the
  // connect failed at once (error_no says why; no callback follows).
  std::unique_ptr<UpstreamConnection> connect(EndpointState& endpoint, const Endpoint& address,
                                              uint32_t timeout_ms, net::ConnectionCallbacks& user,
                                              int& error_no);
  // A new connection for a layer-4 tunnel to `cluster`, within its circuit
  // breakers: the tunnel counts as pending (http1MaxPendingRequests) until
  // the connection is up, and the connection counts against
  // tcp.maxConnections until it closes. Applies the cluster's connect
  // timeout and TCP keepalive.
  //
  // Tunnels are not queued: when either limit is reached the answer is
  // Overflow at once (Envoy's TCP pool would queue the tunnel too).
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
  // A request waiting for the endpoint gets it on the next loop iteration.
  void release(std::unique_ptr<UpstreamConnection> connection, const ClusterInfo& cluster);
  // Closes a connection taken from the pool (not reusable, or given up):
  // its circuit-breaker slots go back now, and requests waiting for the
  // endpoint may get a new connection in its place.
  void close(std::unique_ptr<UpstreamConnection> connection);
  // Closes every idle connection of an endpoint (endpoint removed, drain),
  // and the connections being opened when no request waits for them.
  void close_idle(EndpointState& endpoint);

  // From UpstreamConnection.
  void drop_idle(UpstreamConnection& connection);
  void offer(UpstreamConnection& connection);
  void on_connect_done(UpstreamConnection& connection);
  void on_connect_failed(UpstreamConnection& connection, net::CloseReason reason, int error_no);
  void on_connection_opened();
  void on_connection_closed();
  // From Http2ClientConnection: room for streams came free (served on the
  // next loop iteration, not inside the codec), or it closed.
  void serve_http2(Http2ClientConnection& connection, bool fresh);
  void on_http2_closed(Http2ClientConnection& connection);

  net::EventLoop& loop() { return loop_; }

 private:
  std::unique_ptr<UpstreamConnection> open(EndpointState& endpoint, const ClusterInfo& cluster,
                                           const Endpoint& address, std::string_view sni, int& error_no,
                                           bool http2 = false);
  // Opens one connection for the oldest waiting request of its protocol that
  // no connection being opened stands for yet; false when none needs one or
  // tcp.maxConnections says wait (`stop` then set).
  bool create_connection(EndpointState& endpoint, bool http2, bool& stop);
  // The HTTP/2 settings for a connection to `cluster`.
  std::unique_ptr<Http2ClientSettings> http2_settings_for(const ClusterInfo& cluster) const;
  // Envoy's tryCreateNewConnections: opens connections while more requests
  // wait than connections are being opened (at most 3 per call).
  void try_create_connections(EndpointState& endpoint);
  // Envoy's onUpstreamReady for one connection: it goes to the oldest
  // waiting request it suits, or back to the idle list.
  void serve(std::unique_ptr<UpstreamConnection> connection, bool fresh);
  // A tcp.maxConnections slot for a connection to `endpoint` (made for `sni`).
  bool try_acquire_connection(EndpointState& endpoint, const ClusterInfo& cluster, std::string_view sni);
  // Closes every connection of `list` (idle or connecting) and empties it.
  void close_list(std::vector<std::unique_ptr<UpstreamConnection>>& list);
  // Queues `pending` (http1MaxPendingRequests permitting) and opens
  // connections for the queue.
  StreamStatus enqueue(ClusterRequest& request, PendingRequest& pending, std::string_view sni, bool http2);
  // Takes `pending` out of its queue: the pending slot goes back.
  void dequeue(PendingRequest& pending);
  std::unique_ptr<UpstreamConnection> take_from(std::vector<std::unique_ptr<UpstreamConnection>>& list,
                                                UpstreamConnection& connection);
  uint32_t idle_timeout_for(const ConnectionSettings& settings, uint64_t age_ms) const;
  static void bump(std::atomic<uint64_t>* counter);

  net::EventLoop& loop_;
  uint32_t idle_timeout_ms_;
  Counters counters_;
  std::unique_ptr<Http2ClientSettings> http2_defaults_;
};

}  // namespace torii::upstream
