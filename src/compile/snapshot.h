// Everything a worker needs to serve traffic, compiled from one consistent set
// of resources. Immutable once built; shared by pointer
// (std::shared_ptr<const Snapshot>) with every worker. A request keeps the
// snapshot it started with until it ends, so a reload never changes a request
// half-way through.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/access_log_filter.h"
#include "config/diagnostic.h"
#include "net/tls.h"
#include "router/forward_proxy_table.h"
#include "router/l4_route.h"
#include "router/local_rate_limit.h"
#include "router/route_table.h"
#include "security/authz.h"
#include "security/jwt_authn.h"
#include "upstream/cluster_info.h"

namespace torii::compile {

// One Gateway server that contributed to a listener.
struct ServerInfo {
  std::string gateway;  // namespace/name
  std::string port_name;
  std::string protocol;            // HTTP, HTTPS, ...
  std::vector<std::string> hosts;  // as normalised (ns/host)
  bool https_redirect = false;
};

// One HTTPS server whose TLS this listener terminates (an Envoy filter chain
// matched by SNI), with its own route table.
struct TlsChain {
  // SNI names it serves: "a.com" or "*.a.com"; empty: any name, or none.
  std::vector<std::string> server_names;
  std::shared_ptr<const net::TlsContext> context;
  std::shared_ptr<const router::RouteTable> routes;  // "https.<port>.<server name>.<gateway>"
  ServerInfo server;
};

struct Listener {
  std::string name;  // "0.0.0.0_80" (bind_listenport; "0.0.0.0_0_80" for port 0), stable across reloads
  std::string bind;  // address to bind
  uint32_t gateway_port = 0;  // Gateway port.number (what match.port compares to)
  uint32_t listen_port = 0;   // after --port-map; 0: the kernel picks (Server::listener_port)
  std::string protocol;       // HTTP for plaintext HTTP-family servers
  std::vector<ServerInfo> servers;
  std::shared_ptr<const router::RouteTable> routes;  // "http.<port>"; null for HTTPS
  // Non-empty: an HTTPS listener. The chain for a connection is picked by SNI.
  std::vector<TlsChain> tls_chains;
  // Non-null on a forward-proxy listener (--forward-proxy-port): where
  // absolute-form requests go, by target host and port. Origin-form requests
  // there still use `routes`, as on any gateway listener.
  std::shared_ptr<const router::ForwardProxyTable> forward_proxy;

  // Envoy's filter chain match on server names: exact, then the longest
  // `*.suffix`, then a chain without names. nullptr: no chain takes `sni`.
  const TlsChain* chain_for_sni(std::string_view sni) const;

  // ---- layer 4 (TCP servers, TLS PASSTHROUGH servers) ----
  // The listener has TCP / TLS-passthrough servers: connections are routed
  // by l4_routes (and, sharing the port, tls_chains) before any HTTP.
  bool l4 = false;
  // Some filter chain matches on server names: read the ClientHello first.
  bool inspect_sni = false;
  std::vector<router::L4Route> l4_routes;  // filter chains, config order
  // Envoy's filter chain choice over both kinds by server name (exact, then
  // longest wildcard, then chains without names; an L4 route wins a tie).
  // Both null: no chain matches, the connection is closed.
  struct FilterChain {
    const router::L4Route* l4 = nullptr;
    const TlsChain* tls = nullptr;
  };
  FilterChain filter_chain_for(std::string_view sni) const;

  // What a connection here meets, one word per kind of filter chain, in
  // Istio's protocol words: "HTTP" (plaintext), "FORWARD_PROXY" (also an
  // HTTP_PROXY), "HTTPS" (TLS terminated, HTTP routes), "TLS_PASSTHROUGH",
  // "TLS" (terminated, tcp routes), "TCP". For /listeners and the log.
  std::vector<std::string> kinds() const;
};

// The access log as the Telemetry resources that select this gateway say
// (compile/telemetry_selection.h). Without one, --access-log alone decides
// (Istio's meshConfig.accessLogFile).
struct AccessLogPolicy {
  bool configured = false;  // a Telemetry with accessLogging applies
  bool enabled = true;
  // The rule names no provider: Istio then falls back to the mesh default,
  // which logs only if meshConfig.accessLogFile (here --access-log) is set.
  bool needs_path = false;
  std::optional<config::AccessLogFilter> filter;  // only matching streams are logged
  std::string source;                             // "Telemetry ns/name", for logs and /config_dump

  // Should this stream be logged? `have_path`: --access-log was given.
  bool should_log(bool have_path, int response_code) const {
    if (!(configured ? enabled && (have_path || !needs_path) : have_path)) return false;
    return !filter || filter->matches(response_code);
  }
};

// Tracing as the Telemetry resources that select this gateway say (same
// selection as the access log; compile/telemetry_selection.h). Without one,
// --trace-sampling and --otlp-endpoint alone decide (Istio's meshConfig).
struct TracingPolicy {
  bool configured = false;  // a Telemetry with tracing applies
  // randomSamplingPercentage in basis points (0.01 %, Istio's precision);
  // -1: the rule does not set it (the mesh default, --trace-sampling).
  int32_t sampling_basis_points = -1;
  bool disable_span_reporting = false;
  std::string source;  // "Telemetry ns/name", for /config_dump
};

// Envoy's local rate limit filter as the EnvoyFilters selecting this gateway
// insert it (compile/rate_limit_selection.h). `gateway` non-null: the filter
// is in the chain; its config applies unless the request's route or virtual
// host has one of its own (Envoy's most specific typed_per_filter_config).
struct RateLimitPolicy {
  std::shared_ptr<const router::LocalRateLimit> gateway;
  // The filter is the first HTTP filter (before jwt_authn and RBAC), as
  // Istio's documented patch inserts it; false: after them.
  bool first = true;
  // Keyed by the router::Route* or router::VirtualHost* of this snapshot.
  std::unordered_map<const void*, std::shared_ptr<const router::LocalRateLimit>> scoped;
  // The rate_limits (descriptor actions) of a router::Route* or VirtualHost*.
  std::unordered_map<const void*, std::shared_ptr<const router::RouteRateLimits>> rules;

  const router::RouteRateLimits* rules_of(const void* scope) const {
    if (rules.empty() || scope == nullptr) return nullptr;
    auto it = rules.find(scope);
    return it == rules.end() ? nullptr : it->second.get();
  }

  const router::LocalRateLimit* find(const router::VirtualHost* vhost, const router::Route* route) const {
    if (!scoped.empty()) {
      if (route != nullptr) {
        if (auto it = scoped.find(route); it != scoped.end()) return it->second.get();
      }
      if (vhost != nullptr) {
        if (auto it = scoped.find(vhost); it != scoped.end()) return it->second.get();
      }
    }
    return gateway.get();
  }
};

struct Snapshot {
  uint64_t version = 0;  // increases with every published snapshot
  AccessLogPolicy access_log;
  TracingPolicy tracing;
  RateLimitPolicy rate_limit;
  // RequestAuthentication jwtRules for this gateway (compile/jwt_selection.h);
  // null: none apply and requests are not looked at.
  std::shared_ptr<const security::JwtAuthn> jwt_authn;
  // AuthorizationPolicy (docs/authorization.md); null: none applies.
  std::shared_ptr<const security::AuthzEngine> authz;
  // The same policies for TCP and TLS-passthrough servers (security::for_tcp).
  std::shared_ptr<const security::AuthzEngine> authz_tcp;
  std::vector<Listener> listeners;
  // Immutable once added; a cluster nothing it is built from changed is
  // shared with the previous snapshot (compile/cluster_cache.h).
  std::vector<std::shared_ptr<const upstream::ClusterInfo>> clusters;
  // Keyed by views of the clusters' own names (held by `clusters`).
  std::unordered_map<std::string_view, const upstream::ClusterInfo*> clusters_by_name;
  // Every cluster's ClusterInfo::index is below this. Slots are not dense:
  // a shared cluster keeps the slot it had, new ones take the next.
  size_t cluster_slots = 0;
  config::Diagnostics diagnostics;  // compile-time warnings/notices (dropped servers, ...)
  // Gateway API status (compile/gateway_api_status.h) as YAML; "" without Gateway API objects.
  std::string gateway_api_status;

  const Listener* find_listener(const std::string& name) const;
  const upstream::ClusterInfo* find_cluster(const std::string& name) const;
  // A slot for a new cluster (ClusterInfo::index).
  size_t new_cluster_slot() { return cluster_slots++; }
  // Adds `cluster` (its index already set) under its name.
  const upstream::ClusterInfo* add_cluster(std::shared_ptr<const upstream::ClusterInfo> cluster);
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace torii::compile
