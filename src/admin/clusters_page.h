// The admin pages about upstream clusters' live state (DestinationRule
// traffic policy at work):
//
// * cluster_stats(): `cluster.<name>.<stat>: N` lines for /stats, Envoy's
//   names (upstream_rq_total, upstream_rq_pending_overflow,
//   upstream_cx_overflow, upstream_rq_retry, outlier_detection.ejections_active,
//   circuit_breakers.default.rq_open, ...).
// * clusters_page(): /clusters, Envoy's text format
//   (`<cluster>::<ip:port>::health_flags::/failed_outlier_check`, one line
//   per fact) or JSON with `?format=json`: per endpoint health, ejection
//   state and time left, requests/connections in flight, weight, priority,
//   locality; per cluster the circuit-breaker limits and current counts.
#pragma once

#include <string>

#include "admin/admin_server.h"
#include "admin/config_state.h"
#include "upstream/shared_cluster_state.h"

namespace torii::admin {

// Every cluster with live state, and every cluster of `snapshot` (zeros when
// no worker used it yet); sorted by name.
std::string cluster_stats(const upstream::SharedClusterRegistry& registry, const compile::Snapshot* snapshot);
AdminResponse clusters_page(const ConfigState& state, const upstream::SharedClusterRegistry& registry,
                            const std::string& query);

}  // namespace torii::admin
