// GET /dashboard.json: everything the dashboard page (GET /) shows, in one
// document it polls (docs/dashboard.md):
//
// * "listeners": each listener, its address, Gateway servers, and per route
//   table its virtual hosts and routes, each route with a /explain link and
//   its traffic (requests by class, errors, p50/p99, histogram buckets);
// * "clusters": /clusters?format=json (endpoint health, ejections, circuit
//   breakers) plus each cluster's traffic and Envoy counters;
// * "rejected": the objects whose latest version was refused, with the
//   compiler's `file:line` errors; "diagnostics", "listener_errors";
// * "reloads": the reload history, when each change was noticed, published
//   and served by every worker.
//
// Counters are cumulative; the page computes rates from the deltas between
// two polls (and windowed p50/p99 from the histograms' deltas).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/config_state.h"
#include "proxy/server.h"
#include "telemetry/traffic_stats.h"

namespace torii::admin {

// Every worker's route or cluster series summed by name.
using TrafficByName = std::map<std::string, telemetry::TrafficTotals>;
TrafficByName merge_routes(const std::vector<const telemetry::RequestMetrics*>& workers);
TrafficByName merge_clusters(const std::vector<const telemetry::RequestMetrics*>& workers);

// {"requests", "by_class": [1xx..5xx], "no_response", "errors", "p50_ms",
//  "p99_ms", "buckets": [non-cumulative counts, bounds as "bucket_bounds_ms"]};
// zeros for a name without traffic.
nlohmann::json traffic_json(const telemetry::TrafficTotals& totals);

// The /explain URL that shows how a request for `route` of virtual host
// `domain` on a listener with Gateway port `port` is routed (a wildcard
// domain gets a made-up name it covers; the path is the route's match).
std::string explain_link(const std::string& domain, uint32_t port, bool https, const router::Route& route);

// The reload history, newest first, with each entry's serving time from
// `serving_since_us` (proxy::Server::serving_since_us).
nlohmann::json reloads_json(const std::vector<ReloadRecord>& history,
                            const std::function<int64_t(uint64_t)>& serving_since_us);

nlohmann::json dashboard_json(const ConfigState& state, const proxy::Server& server);

}  // namespace torii::admin
