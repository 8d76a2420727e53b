// One client connection on a layer-4 listener (Gateway servers with
// protocol TCP, TLS with tls.mode PASSTHROUGH, or TLS with SIMPLE / MUTUAL
// and tcp routes): Envoy's listener with a tls_inspector, filter chains
// matched by server name, and tcp_proxy.
//
//   1. When some filter chain matches on server names (inspect_sni), the
//      ClientHello is peeked (recv MSG_PEEK, never consumed) until complete,
//      for at most --tls-inspector-timeout-s; its SNI picks the chain
//      (Listener::filter_chain_for). Not TLS: no SNI, so only chains without
//      server names match. Without inspect_sni the one TCP chain applies.
//   2. An L4 route: a destination is picked by weight and a TcpTunnel relays
//      the bytes (the ClientHello included, untouched) to it; a route of a
//      TLS SIMPLE / MUTUAL server first terminates TLS on the downstream
//      connection and relays the plaintext. A terminated
//      HTTPS chain on the same port: the socket is handed to the worker's
//      HTTP side, which does the TLS handshake. No chain: the connection is
//      closed (Envoy: "no matching filter chain"), counted as
//      tcp_downstream_cx_no_route.
//
// Owned by its Worker, destroyed deferred once finished. Worker thread only.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "compile/snapshot.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "net/unique_fd.h"
#include "proxy/tcp_tunnel.h"

namespace torii::proxy {

class Worker;

class L4Connection final : public net::IoHandler, public TcpTunnelCallbacks, public net::Deferrable {
 public:
  L4Connection(Worker& worker, net::UniqueFd fd, std::string peer_ip, std::string listener_name,
               compile::SnapshotPtr snapshot, const compile::Listener& listener);
  ~L4Connection() override;
  L4Connection(const L4Connection&) = delete;
  L4Connection& operator=(const L4Connection&) = delete;

  std::list<std::unique_ptr<L4Connection>>::iterator position;  // in the worker's list

  // Peeks (or routes at once); may finish before returning.
  void start();
  const std::string& listener_name() const { return listener_name_; }

  // ---- net::IoHandler (while peeking) ----
  void on_io(uint32_t events) override;

  // ---- TcpTunnelCallbacks ----
  void on_tunnel_closed(TcpTunnel& tunnel) override;

 private:
  void peek();
  void on_inspect_timeout();
  void route(std::string_view sni);
  // AuthorizationPolicy for TCP servers (security::for_tcp); false: denied.
  bool authorized(std::string_view sni);
  // Ends the connection without a tunnel (no route, timeout, client gone).
  void close_now();
  void finish(bool handed_over);

  Worker& worker_;
  std::string peer_ip_;
  std::string listener_name_;
  compile::SnapshotPtr snapshot_;  // keeps listener_ and the routes alive
  const compile::Listener& listener_;
  net::IoWatch watch_;  // the socket while peeking
  net::Timer inspect_timer_;
  std::unique_ptr<net::Connection> downstream_;
  std::unique_ptr<TcpTunnel> tunnel_;  // declared after downstream_: destroyed first
  bool finished_ = false;
};

}  // namespace torii::proxy
