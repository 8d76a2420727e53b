// One layer-4 filter chain of a TCP / TLS-passthrough listener: what a
// VirtualService `tcp:` rule or one `tls:` match compiles to (istiod
// gateway.go buildGatewayNetworkFiltersFromTCPRoutes / FromTLSRoutes; Envoy
// filter chain + tcp_proxy with weighted clusters).
//
// Built by the compiler, immutable afterwards, read by workers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/tls.h"
#include "router/route_table.h"

namespace torii::router {

struct L4Route {
  // Envoy filter_chain_match.server_names: lower-case "a.com" or "*.a.com".
  // Empty: any server name, or none (a `tcp:` route; a `tls:` sniHosts "*").
  std::vector<std::string> server_names;
  // Non-null: a TLS server with mode SIMPLE / MUTUAL and tcp routes. The
  // gateway terminates TLS with this context and relays the plaintext.
  std::shared_ptr<const net::TlsContext> tls;
  std::vector<WeightedCluster> clusters;  // never empty
  uint64_t total_weight = 0;
  // For logs, /config_dump and diagnostics.
  std::string kind;             // "tcp" or "tls"
  std::string virtual_service;  // namespace/name
  int rule_index = 0;           // index in spec.tcp / spec.tls
  int match_index = -1;         // index in match[]; -1 when the rule has none
  std::string gateway;          // namespace/name of the server's Gateway
  uint32_t server_port = 0;     // the server's Gateway port.number

  // Picks a destination by relative weight; `random` is any uniformly random value.
  const WeightedCluster& pick(uint64_t random) const { return pick_weighted(clusters, total_weight, random); }
};

// How well `names` (filter_chain_match.server_names) match `sni`, as Envoy
// orders filter chains: 0 no match; 1 an empty list (any name, or none);
// 2 + suffix length for "*.suffix" (the longest wildcard wins); SIZE_MAX
// for an exact match. Case-insensitive; `sni` may be empty (no SNI sent).
size_t server_name_rank(const std::vector<std::string>& names, std::string_view sni);

}  // namespace torii::router
