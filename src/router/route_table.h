// The compiled route table of one HTTP listener (Envoy's RouteConfiguration):
// virtual hosts selected by Host, each an ordered list of routes. Built once by
// the compiler, immutable afterwards, matched by workers with const methods only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/header_map.h"
#include "router/route_match.h"
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
};

struct WeightedCluster {
  std::string name;                                  // outbound|port|subset|host
  const upstream::ClusterInfo* cluster = nullptr;    // nullptr => 503 NC at request time
  uint32_t weight = 1;
};

struct RouteAction {
  std::vector<WeightedCluster> clusters;  // never empty for a route action
  uint64_t total_weight = 0;
  // Picks a cluster by relative weight; `random` is any uniformly random value.
  const WeightedCluster& pick(uint64_t random) const;
};

// One Envoy route: one match block of one VirtualService rule.
struct Route {
  RouteMatch match;
  RouteAction action;
  // For /config_dump, logs and `torii explain`.
  std::string virtual_service;  // namespace/name
  int rule_index = 0;           // index in spec.http
  int match_index = -1;         // index in match[]; -1 for a rule without match
  std::string name;             // rule name (and ".match name"), may be empty
};

struct VirtualHost {
  std::string domain;  // lower-case: "a.com", "*.a.com" or "*"
  std::vector<Route> routes;
  const Route* match(const RequestView& request) const;
};

class RouteTable {
 public:
  // Adds (or returns the existing) virtual host for a lower-case domain.
  VirtualHost& add_virtual_host(const std::string& domain);
  // Builds the lookup indexes; call once after all virtual hosts are added.
  void finalize();

  // Envoy's precedence: exact domain, then the longest `*.suffix` that covers
  // the host (any depth, wildcard covers at least one character), then `*`.
  // The port in `host` is ignored (ignore_port_in_host_matching) and case
  // does not matter.
  const VirtualHost* find_virtual_host(std::string_view host) const;

  // nullptr => 404 (no virtual host, or no route in it).
  const Route* route(const RequestView& request) const;

  const std::vector<std::unique_ptr<VirtualHost>>& virtual_hosts() const { return virtual_hosts_; }

 private:
  std::vector<std::unique_ptr<VirtualHost>> virtual_hosts_;
  std::unordered_map<std::string, const VirtualHost*> exact_;
  // (suffix including the leading '.', vhost) sorted by suffix length, longest first
  std::vector<std::pair<std::string, const VirtualHost*>> suffixes_;
  const VirtualHost* star_ = nullptr;
};

// "a.com:8080" -> "a.com"; "[::1]:80" -> "[::1]".
std::string_view strip_port(std::string_view host);

}  // namespace torii::router
