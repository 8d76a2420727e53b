// What a forward-proxy listener (--forward-proxy-port) may reach, and how:
// one route table per target port, as an Istio sidecar has one outbound
// route configuration per service port. Each table has exactly one virtual
// host per registry host (Service or ServiceEntry host, exact or `*.suffix`)
// that declares the port; its routes are those of the VirtualServices bound
// to `mesh` for that host, or else Istio's "default" route to the host's own
// cluster. There is never a `*` virtual host, so the lookup below is the
// allow-list decision: no virtual host => the target is not allowed (403).
//
// Built by compile/forward_proxy_builder.h; immutable; matched by workers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>

#include "router/route_table.h"

namespace torii::router {

class ForwardProxyTable {
 public:
  // The table for one target port; created on first use while building.
  RouteTable& table_for_port(uint32_t port);
  void finalize();

  // The virtual host serving `authority` ("host" or "host:port"; the port
  // defaults to `default_port`, 80 for http), or nullptr when no registry
  // host allows it: the host is unknown, or its service lacks that port.
  // Exact names win over wildcards, then the longest `*.suffix` (Envoy's
  // domain precedence); case does not matter.
  const VirtualHost* find(std::string_view authority, uint32_t default_port) const;

  const std::map<uint32_t, std::shared_ptr<RouteTable>>& tables() const { return by_port_; }

  // Where a CONNECT tunnel to a virtual host's registry host goes: the
  // host's own cluster outbound|port||host, as its default route would
  // (VirtualService http rules do not apply to an opaque tunnel).
  void set_connect_target(const VirtualHost& vhost, WeightedCluster target);
  const WeightedCluster* connect_target(const VirtualHost& vhost) const;

 private:
  std::map<uint32_t, std::shared_ptr<RouteTable>> by_port_;
  std::map<const VirtualHost*, WeightedCluster> connect_targets_;
};

// Splits "host[:port]" / "[v6]:port". port = default_port when absent;
// false when the port is not a number in 1..65535.
bool split_authority(std::string_view authority, uint32_t default_port, std::string_view& host,
                     uint32_t& port);

}  // namespace torii::router
