// A bidirectional byte tunnel between a downstream connection and an
// upstream endpoint of a cluster: Envoy's tcp_proxy network filter, reusable
// by anything that ends up relaying raw bytes (L4 listeners for VirtualService
// `tcp:` / `tls:` routes, HTTP CONNECT tunnels).
//
// Life of a tunnel:
//   1. The owner constructs it around a downstream net::Connection it keeps
//      owning (the tunnel only borrows it, and must not outlive it), with the
//      target cluster, and calls start(). From then on the tunnel is the
//      connection's ConnectionCallbacks; downstream reading pauses until the
//      upstream is up. `initial` bytes passed to start(), then bytes already
//      in downstream.input() (e.g. bytes after a CONNECT request head), are
//      forwarded before anything read later.
//   2. Upstream: endpoint chosen by the cluster's load balancer (ejected
//      endpoints left out, as for HTTP), connection opened within the
//      cluster's circuit breakers (tcp.maxConnections, pending connections
//      under http1MaxPendingRequests as Envoy's TCP pool counts them) and
//      connect timeout, TLS origination if the cluster's DestinationRule asks
//      for it. Connect success/failure feeds outlier detection.
//   3. Connected: Callbacks::on_tunnel_connected() runs first (a CONNECT
//      owner writes its "200" into downstream.output() there), then bytes
//      flow both ways. Failed: on_tunnel_connect_failed() runs (a CONNECT
//      owner writes its 503 there); the tunnel then flushes and closes the
//      downstream connection.
//   4. Flowing: each direction stops reading its source while the other
//      side's output is above the buffer limit (--buffer-limit-kb, Envoy's
//      per_connection_buffer_limit_bytes) and resumes when it drained to
//      half. A FIN from one side is forwarded as shutdown(SHUT_WR) to the
//      other once everything before it was written (half-close); the tunnel
//      ends when both directions have ended. A reset or error on one side
//      flushes what the other side still has queued and closes it (Envoy's
//      FlushWrite close). No byte either way for idle_timeout_ms
//      (--tcp-idle-timeout-s, Envoy tcp_proxy idle_timeout, 1 h) closes both.
//   5. Callbacks::on_tunnel_closed() is the last call: the downstream
//      connection is closed, the upstream connection released. The owner
//      then destroys the tunnel (deferred: the call may come from inside a
//      connection callback).
//
// abort() ends it at once, silently (owner teardown, worker drain end).
//
// For a CONNECT owner (an HTTP connection manager handing its connection
// over): stop your own timers and parsing before start(), and leave the
// connection's callbacks alone until on_tunnel_closed(). The downstream
// connection may carry TLS (an HTTPS listener); the tunnel sees plaintext.
// Map TunnelFailure to your reply (Envoy answers CONNECT failures with 503).
// Counters: tcp_idle_timeout, tcp_flow_*; per cluster upstream_cx_* and
// upstream_cx_rx/tx_bytes_total, as for L4 routes.
//
// Worker thread only. One allocation per tunnel for the upstream connection;
// bytes move between the connections' buffers by slice hand-over.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "compile/snapshot.h"
#include "net/buffer.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/upstream_connection.h"

namespace torii::proxy {

class Worker;
class TcpTunnel;

// Why the upstream side could not be set up.
enum class TunnelFailure {
  NoCluster,          // the route's cluster does not exist (Envoy: no cluster match)
  Overflow,           // circuit breaker: maxConnections / pending connections
  NoHealthyUpstream,  // every endpoint ejected, or none at all
  ConnectFailed,      // refused, unreachable, TLS handshake failed
  ConnectTimeout,     // connectTimeout of the cluster
};
const char* to_string(TunnelFailure failure);

class TcpTunnelCallbacks {
 public:
  // The upstream connection is up; bytes start flowing after this returns.
  virtual void on_tunnel_connected(TcpTunnel& /*tunnel*/) {}
  // The upstream connection could not be made. `transport_failure` is the
  // TLS failure reason when TLS origination failed, else empty. Whatever the
  // owner appends to the downstream output here is flushed before it closes.
  virtual void on_tunnel_connect_failed(TcpTunnel& /*tunnel*/, TunnelFailure /*failure*/,
                                        std::string_view /*transport_failure*/) {}
  // Last call: the tunnel is over. Destroy it (deferred) and the downstream
  // connection's owner with it.
  virtual void on_tunnel_closed(TcpTunnel& tunnel) = 0;

 protected:
  ~TcpTunnelCallbacks() = default;
};

struct TcpTunnelTarget {
  // Keeps `cluster` alive for the tunnel's lifetime.
  compile::SnapshotPtr snapshot;
  const upstream::ClusterInfo* cluster = nullptr;  // nullptr: fails with NoCluster
  // SNI when the cluster originates TLS (DestinationRule tls); empty: none.
  std::string sni;
  // The client address, for consistentHash useSourceIp.
  std::string peer_ip;
};

class TcpTunnel final : public net::ConnectionCallbacks, public net::Deferrable {
 public:
  TcpTunnel(Worker& worker, net::Connection& downstream, TcpTunnelTarget target,
            TcpTunnelCallbacks& callbacks);
  ~TcpTunnel() override;
  TcpTunnel(const TcpTunnel&) = delete;
  TcpTunnel& operator=(const TcpTunnel&) = delete;

  // Takes over the downstream connection's callbacks and connects upstream.
  // `initial` bytes are sent upstream before anything read from downstream
  // (those already in downstream.input() follow them). May call back before
  // returning (a connect that fails at once).
  void start(net::Buffer initial = {});
  // Ends the tunnel now: both connections closed, no callback.
  void abort();

  bool connected() const { return connected_; }
  const upstream::ClusterInfo* cluster() const { return target_.cluster; }
  // The chosen endpoint ("ip:port"), once start() picked one.
  std::string endpoint_address() const;
  uint64_t bytes_to_upstream() const { return bytes_up_; }
  uint64_t bytes_to_downstream() const { return bytes_down_; }

 private:
  // The downstream side reports here; the upstream side to UpstreamSide.
  class UpstreamSide final : public net::ConnectionCallbacks {
   public:
    explicit UpstreamSide(TcpTunnel& tunnel) : tunnel_(tunnel) {}
    void on_connected() override { tunnel_.on_upstream_connected(); }
    void on_data(net::Buffer& input) override { tunnel_.on_upstream_data(input); }
    void on_eof() override { tunnel_.on_upstream_eof(); }
    void on_close(net::CloseReason reason, int error_no) override {
      tunnel_.on_upstream_close(reason, error_no);
    }
    void on_output_drained() override { tunnel_.on_upstream_drained(); }

   private:
    TcpTunnel& tunnel_;
  };

  // net::ConnectionCallbacks (downstream)
  void on_data(net::Buffer& input) override;
  void on_eof() override;
  void on_close(net::CloseReason reason, int error_no) override;
  void on_output_drained() override;

  void on_upstream_connected();
  void on_upstream_data(net::Buffer& input);
  void on_upstream_eof();
  void on_upstream_close(net::CloseReason reason, int error_no);
  void on_upstream_drained();

  void connect();
  void fail_connect(TunnelFailure failure, std::string_view transport_failure);
  // Moves `from` into `to`'s output and flushes; pauses `source` when `to` is full.
  void pump(net::Buffer& from, net::Connection& to, net::Connection& source, uint64_t& counter);
  void maybe_finish();
  // One side is gone: flush the other and close it, then finish.
  void close_other_side(bool upstream_gone);
  // close_after_flush(), counting the on_close it will report.
  void close_gracefully(net::Connection& connection);
  void on_graceful_close_done();
  void finish();
  void release_upstream();
  void report_outcome(bool success, bool timeout);
  void touch();
  void on_idle_timeout();

  Worker& worker_;
  net::Connection& downstream_;
  TcpTunnelTarget target_;
  TcpTunnelCallbacks& callbacks_;
  UpstreamSide upstream_side_;
  std::unique_ptr<upstream::UpstreamConnection> upstream_;
  upstream::EndpointState* endpoint_state_ = nullptr;
  const upstream::Endpoint* endpoint_ = nullptr;
  net::Buffer initial_;
  net::Timer idle_timer_;
  uint64_t last_activity_ms_ = 0;
  uint64_t bytes_up_ = 0;
  uint64_t bytes_down_ = 0;
  uint32_t response_flags_ = 0;  // proxy::flag bits (stream_info.h)

  bool started_ = false;
  bool connected_ = false;
  bool counted_active_ = false;  // endpoint_state_->active_requests holds us
  bool downstream_eof_ = false;  // client FIN seen (forwarded upstream)
  bool upstream_eof_ = false;    // upstream FIN seen (forwarded downstream)
  bool closing_ = false;         // one side gone; waiting for the other to flush
  bool finished_ = false;
  int pending_closes_ = 0;  // graceful closes still to report on_close
};

}  // namespace torii::proxy
