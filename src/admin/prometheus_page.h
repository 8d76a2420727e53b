// /stats/prometheus: the gateway's metrics in the Prometheus text format as
// an Istio gateway's Envoy serves them (ISTIO_TELEMETRY.md 1.5, 2.1):
// Envoy's cluster, circuit breaker, outlier detection, connection manager
// and server stats under their Prometheus names and Istio's tag names
// (cluster_name, http_conn_manager_prefix, response_code_class), Istio's
// standard metrics (istio_requests_total, ...; reporter="source"), then
// process_* metrics. See docs/metrics.md.
#pragma once

#include <chrono>
#include <string>

#include "admin/admin_server.h"
#include "admin/config_state.h"
#include "proxy/server.h"

namespace torii::admin {

struct PrometheusContext {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string version;  // istio_build's tag
};

// The page body (without process_* metrics, which prometheus_page adds).
std::string prometheus_stats(const ConfigState& state, const proxy::Server& server,
                             const PrometheusContext& context);
AdminResponse prometheus_page(const ConfigState& state, const proxy::Server& server,
                              const PrometheusContext& context);

}  // namespace torii::admin
