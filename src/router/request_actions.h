// Applies a matched route's header operations and rewrites to a request or a
// response, in Envoy's order (RouteEntryImplBase / WeightedClusterEntry
// finalizeRequestHeaders / finalizeResponseHeaders). Shared by the proxy and
// `torii explain`, so what explain prints is what the upstream gets.
#pragma once

#include <string>
#include <string_view>

#include "http/header_map.h"
#include "router/route_table.h"

namespace torii::router {

// Request side, after the gateway's own edge changes: the chosen
// destination's operations and host rewrite, then the rule's operations and
// host rewrite, then the path rewrite. Returns true when the path changed,
// with the new origin-form target in `new_target`; the original target is
// then kept in `x-envoy-original-path`, as Envoy does unless its debug
// headers are suppressed.
bool apply_request_actions(const Route& route, const WeightedCluster& chosen, http::HeaderMap& headers,
                           std::string_view path_and_query, std::string& new_target);

// Response side (upstream responses and the route's local replies): the
// chosen destination's response operations (if any), then the rule's.
void apply_response_actions(const Route& route, const WeightedCluster* chosen, http::HeaderMap& headers);

}  // namespace torii::router
