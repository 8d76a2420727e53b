// The compiled route table of one HTTP listener (Envoy's RouteConfiguration):
// virtual hosts selected by Host, each an ordered list of routes. Built once by
// the compiler, immutable afterwards, matched by workers with const methods only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>
#include <unordered_map>
#include <vector>

#include "http/header_map.h"
#include "router/route_action.h"
#include "router/route_index.h"
#include "router/route_match.h"
#include "router/route_policies.h"
#include "upstream/cluster_info.h"

namespace torii::router {

// What the router looks at in a request. Views into the stream's own storage.
struct RequestView {
  std::string_view method;
  std::string_view path;       // without the query string
  std::string_view query;      // after '?', without it; empty if none
  std::string_view authority;  // Host / :authority as received (may carry a port)
  std::string_view scheme;     // "http" or "https"
  const http::HeaderMap* headers = nullptr;
  // Envoy's :path: path and query as received ("/a?b=1"); a fragment the
  // client sent is cut by the header matchers (Envoy's codec refuses it).
  std::string_view path_and_query;
  // The payload of the request's verified JWT (RequestAuthentication), for
  // "@request.auth.claims" matches; null: no token.
  const nlohmann::json* jwt_payload = nullptr;
};

struct WeightedCluster {
  std::string name;                                // outbound|port|subset|host
  const upstream::ClusterInfo* cluster = nullptr;  // nullptr => 503 NC at request time
  uint32_t weight = 1;
  // Destination-level `headers` (§3.11). Empty for a single destination:
  // istiod folds those into the rule's list (RouteAction::headers).
  HeaderMutations headers;
  // Forward-proxy routes only (compile/forward_proxy_builder.h). `blackhole`:
  // Istio's BlackHoleCluster under REGISTRY_ONLY, a 502 with no upstream.
  // `dynamic_host`: the endpoints are not compiled but resolved per request
  // (c-ares on the worker) from `dynamic_name`, or from the request's own
  // host when that is empty -- the sidecar's original-destination clusters
  // (PassthroughCluster under ALLOW_ANY, ServiceEntry resolution NONE) and
  // the dynamic forward proxy for wildcard ServiceEntry hosts; `cluster`
  // then supplies the name, port and traffic policy. `dynamic_port`: the
  // port of `name` (outbound|<port>|...), for a `cluster` without one of its
  // own (PassthroughCluster); taken from the name when the snapshot is built
  // so requests need not parse it.
  bool blackhole = false;
  bool dynamic_host = false;
  std::string dynamic_name;
  uint32_t dynamic_port = 0;
};

// Picks one of `clusters` (never empty) by relative weight; `total_weight`
// is their sum (0: the first), `random` any uniformly random value. Shared by
// HTTP routes and tcp/tls routes.
const WeightedCluster& pick_weighted(const std::vector<WeightedCluster>& clusters, uint64_t total_weight,
                                     uint64_t random);

struct RouteAction {
  std::vector<WeightedCluster> clusters;  // never empty for a route action
  uint64_t total_weight = 0;
  // Rule-level header operations and host rewrite, applied after the chosen
  // destination's (Envoy WeightedClusterEntry::finalizeRequestHeaders).
  HeaderMutations headers;
  PathRewrite path_rewrite;  // rewrite.uri / rewrite.uriRegexRewrite
  RoutePolicies policies;    // timeout, retries, fault, mirrors, CORS
  // Envoy RouteAction.cluster_not_found_response_code: 503, or 500 on
  // Gateway API routes (an invalid backend fails its share with 500).
  uint16_t cluster_not_found_status = 503;
  // Picks a cluster by relative weight; `random` is any uniformly random value.
  const WeightedCluster& pick(uint64_t random) const { return pick_weighted(clusters, total_weight, random); }
};

// One Envoy route: one match block of one VirtualService rule.
struct Route {
  RouteMatch match;
  RouteAction action;  // no clusters when redirect or direct_response is set
  std::shared_ptr<const RedirectAction> redirect;
  std::shared_ptr<const DirectResponseAction> direct_response;
  // For /config_dump, logs and `torii explain`.
  std::string virtual_service;  // namespace/name
  int rule_index = 0;           // index in spec.http
  int match_index = -1;         // index in match[]; -1 for a rule without match
  std::string name;             // rule name (and ".match name"), may be empty
  // Istio's route decorator (getRouteOperation): "<host>:<port><path>" of
  // the one destination, else "<vs name>:<gateway port><path>"; sent
  // upstream as x-envoy-decorator-operation and the span's name.
  std::string decorator;
  // A rule merged in from a delegate VirtualService (§3.12): the delegate
  // (namespace/name) and its rule index; rule_index is then the root's rule.
  std::string delegate;
  int delegate_rule_index = -1;
  // A route translated from a Gateway API HTTPRoute: "HTTPRoute ns/name
  // spec.rules[i].matches[j]" (the generated VirtualService's indexes above
  // follow the spec's precedence order, not the HTTPRoute's).
  std::string gateway_api_origin;
  // The route's name in per-route traffic stats (the admin dashboard), set by
  // RouteTable::finalize(): "<domain> <virtual_service>#<rule>[.<match>]
  // [ <delegate>#<rule>]". Stable across reloads that keep the route, unique
  // within its virtual host (duplicate routes are dropped when built).
  std::string stats_key;
};

struct VirtualHost {
  std::string domain;  // lower-case: "a.com", "*.a.com" or "*"
  std::vector<Route> routes;
  // Gateway server `tls.httpsRedirect` (Envoy `require_tls: ALL`, §4.6): a
  // request not considered TLS (its x-forwarded-proto as the connection
  // manager set it, i.e. "https" only from a TLS connection or a trusted hop)
  // gets a 301 with empty body and `location: https://<Host as received><path
  // with query>`, before any route is matched, even in a vhost without
  // routes. match() ignores it so `torii explain` can still show where the
  // HTTPS request would go.
  bool require_tls = false;
  // Built by RouteTable::finalize() for long route lists; same answers as the walk.
  RouteIndex index;
  const Route* match(const RequestView& request) const;
};

class RouteTable {
 public:
  // Adds (or returns the existing) virtual host for a lower-case domain.
  VirtualHost& add_virtual_host(const std::string& domain);
  // Adds a virtual host another table built and finalized (its domain not
  // in this table yet): shared as it is, read-only from now on. A new
  // snapshot takes the virtual hosts a config change did not reach from
  // the previous one this way (compile/route_cache.h).
  void adopt_virtual_host(std::shared_ptr<const VirtualHost> vhost);
  // Builds the lookup indexes and the routes' stats keys; call once after
  // all virtual hosts are added.
  void finalize();

  // Envoy's precedence: exact domain, then the longest `*.suffix` that covers
  // the host (any depth, wildcard covers at least one character), then `*`.
  // The port in `host` is ignored (ignore_port_in_host_matching) and case
  // does not matter.
  const VirtualHost* find_virtual_host(std::string_view host) const;

  // nullptr => 404 (no virtual host, or no route in it).
  const Route* route(const RequestView& request) const;

  const std::vector<std::shared_ptr<VirtualHost>>& virtual_hosts() const { return virtual_hosts_; }
  // The virtual host with exactly this (lower-case) domain, or nullptr.
  const VirtualHost* find_domain(std::string_view domain) const;

 private:
  // Keys are views of the virtual hosts' own `domain` strings (the hosts are
  // held by virtual_hosts_ and never move): no copy of 10,000 domains per
  // compile.
  using DomainIndex = std::unordered_map<std::string_view, const VirtualHost*>;

  std::vector<std::shared_ptr<VirtualHost>> virtual_hosts_;
  // Per virtual host: adopted from another table (finalize() does not write it).
  std::vector<bool> adopted_;
  // Every domain, filled by add_virtual_host (mutable: the table is still being built).
  std::unordered_map<std::string_view, VirtualHost*> by_domain_;
  DomainIndex exact_;
  // `*.a.com` domains keyed by their suffix ".a.com": the lookup walks the
  // host's dots left to right, so the first hit is the longest suffix.
  DomainIndex dot_suffixes_;
  // Any other `*xyz` form (Envoy allows them, Istio validation does not),
  // keyed by "xyz", longest first. Normally empty.
  std::vector<std::pair<std::string, const VirtualHost*>> other_suffixes_;
  const VirtualHost* star_ = nullptr;
};

// Splits an authority at its port colon: "a.com:8080" -> "a.com", "8080";
// "[::1]:80" -> "[::1]", "80" (the brackets stay on the host); "a.com",
// "a.com:" and a bare IPv6 address ("::1", more than one colon) -> no port
// (empty). The port text is not checked. False when a bracketed host has no
// "]" or is followed by anything other than ":port".
bool split_host_port(std::string_view authority, std::string_view& host, std::string_view& port);

// "a.com:8080" -> "a.com"; "[::1]:80" -> "[::1]".
std::string_view strip_port(std::string_view host);

}  // namespace torii::router
