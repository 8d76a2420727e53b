// A CONNECT request a forward-proxy listener accepted (HTTPS_PROXY clients):
// the client connection becomes a byte tunnel (proxy/tcp_tunnel.h) to the
// target host's cluster, with its load balancing, circuit breakers and
// outlier detection. Once the upstream connection is up the client gets
// "HTTP/1.1 200 Connection established" and bytes flow both ways; if it
// cannot be made, a 503 with Envoy's body (overflow with
// x-envoy-overloaded), then the connection closes.
//
// Owned by its DownstreamConnection, which it tells when the tunnel is over
// (`on_closed`). Worker thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "net/connection.h"
#include "proxy/tcp_tunnel.h"
#include "upstream/cluster_info.h"

namespace torii::proxy {

class Worker;

class ConnectTunnel final : public TcpTunnelCallbacks {
 public:
  // `keep`: a per-request cluster (dynamic host) the target points into.
  ConnectTunnel(Worker& worker, net::Connection& downstream, TcpTunnelTarget target,
                std::shared_ptr<const upstream::ClusterInfo> keep, std::function<void()> on_closed);
  ~ConnectTunnel();
  ConnectTunnel(const ConnectTunnel&) = delete;
  ConnectTunnel& operator=(const ConnectTunnel&) = delete;

  // May report on_closed before returning (a connect that fails at once).
  void start();
  void abort();

  // ---- TcpTunnelCallbacks ----
  void on_tunnel_connected(TcpTunnel& tunnel) override;
  void on_tunnel_connect_failed(TcpTunnel& tunnel, TunnelFailure failure,
                                std::string_view transport_failure) override;
  void on_tunnel_closed(TcpTunnel& tunnel) override;

 private:
  Worker& worker_;
  net::Connection& downstream_;
  std::shared_ptr<const upstream::ClusterInfo> keep_;
  std::function<void()> on_closed_;
  std::unique_ptr<TcpTunnel> tunnel_;
  std::string failure_body_;
};

}  // namespace torii::proxy
