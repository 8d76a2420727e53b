#include "admin/admin_pages.h"

#include <optional>

#include "admin/clusters_page.h"
#include "admin/config_dump.h"
#include "admin/dashboard_json.h"
#include "admin/dashboard_page.h"
#include "admin/explain_page.h"
#include "admin/listeners_page.h"
#include "admin/prometheus_page.h"
#include "admin/stats_filter.h"
#include "proxy/stats.h"
#include "router/local_rate_limit.h"

namespace torii::admin {

namespace {

AdminResponse stats_page(const ConfigState& state, const proxy::Server& server, const std::string& query) {
  std::string body;
  for (const auto& [name, value] : proxy::sum_stats(server.worker_stats())) {
    body += name + ": " + std::to_string(value) + "\n";
  }
  // Tracing (docs/tracing.md): spans the collector took, and spans lost --
  // a worker's buffer was full, or the batch could not be posted.
  if (const telemetry::SpanExporter* exporter = server.span_exporter()) {
    uint64_t buffer_full = 0;
    for (const proxy::WorkerStats* w : server.worker_stats())
      buffer_full += w->tracing_spans_buffer_full.load(std::memory_order_relaxed);
    body += "tracing_spans_sent: " + std::to_string(exporter->spans_sent()) + "\n";
    body += "tracing_spans_dropped: " + std::to_string(buffer_full + exporter->spans_export_failed()) + "\n";
    body += "tracing_export_failures: " + std::to_string(exporter->export_failures()) + "\n";
  }
  // Envoy's local rate limit filter: <stat_prefix>.http_local_rate_limit.*
  for (const auto& [name, value] : router::rate_limit_registry().stats()) {
    body += name + ": " + std::to_string(value) + "\n";
  }
  // An empty filter matches every name, as in Envoy.
  const std::string pattern = query_param(query, "filter");
  std::optional<StatsFilter> filter;
  if (!pattern.empty()) {
    filter.emplace(pattern);
    if (!filter->ok()) return {400, "text/plain", "Invalid re2 regex\n"};
  }
  if (!filter || filter->may_match_prefix("cluster."))
    body += cluster_stats(server.clusters(), state.snapshot.get());
  body += "config_reloads: " + std::to_string(state.reloads) + "\n";
  size_t rejected = 0;
  for (const auto& o : state.object_list()) rejected += o->latest_rejected || !o->in_force ? 1 : 0;
  body += "config_rejected_objects: " + std::to_string(rejected) + "\n";
  if (state.snapshot) {
    body += "snapshot_version: " + std::to_string(state.snapshot->version) + "\n";
    body += "snapshot_listeners: " + std::to_string(state.snapshot->listeners.size()) + "\n";
    body += "snapshot_clusters: " + std::to_string(state.snapshot->clusters.size()) + "\n";
  }
  if (filter) return {200, "text/plain", filter->filter_lines(body)};
  return {200, "text/plain", body};
}

}  // namespace

AdminServer::Handler make_admin_handler(const ConfigStateHolder& holder, const proxy::Server& server,
                                        std::string version) {
  PrometheusContext prometheus;
  prometheus.version = std::move(version);
  return [&holder, &server, prometheus](const AdminRequest& request) -> AdminResponse {
    if (request.method != "GET" && request.method != "HEAD") {
      return {405, "text/plain", "only GET is supported\n"};
    }
    if (request.path == "/ready") {
      ConfigState state = holder.get();
      if (state.waiting_for_etcd)
        return {503, "text/plain", "waiting for etcd (no config read yet, no --etcd-cache)\n"};
      if (state.snapshot && server.ready())
        return {200, "text/plain", state.stale_note.empty() ? "LIVE\n" : "LIVE\n" + state.stale_note + "\n"};
      std::string why = !state.snapshot ? "no configuration loaded yet\n" : "listeners not bound\n";
      for (const auto& e : state.listener_errors) why += e + "\n";
      return {503, "text/plain", why};
    }
    if (request.path == "/config_dump") {
      return {200, "application/json", config_dump(holder.get()).dump(2) + "\n"};
    }
    if (request.path == "/status") {
      // Gateway API status (compile/gateway_api_status.h), as YAML.
      ConfigState state = holder.get();
      std::string body = state.snapshot ? state.snapshot->gateway_api_status : "";
      if (body.empty()) body = "# no Gateway API objects served\n";
      return {200, "text/yaml", body};
    }
    if (request.path == "/clusters") {
      return clusters_page(holder.get(), server.clusters(), request.query);
    }
    if (request.path == "/listeners") {
      return listeners_page(holder.get(), request.query);
    }
    if (request.path == "/explain") {
      return explain_page(holder.get(), request);
    }
    if (request.path == "/stats/prometheus") {
      return prometheus_page(holder.get(), server, prometheus);
    }
    if (request.path == "/stats") {
      return stats_page(holder.get(), server, request.query);
    }
    if (request.path == "/") return dashboard_page();
    if (request.path == "/dashboard.json") {
      return {200, "application/json", dashboard_json(holder.get(), server).dump() + "\n"};
    }
    if (request.path == "/help") {
      return {200, "text/plain",
              "torii admin\n  /             the dashboard (HTML; docs/dashboard.md)\n"
              "  /dashboard.json  what the dashboard shows, as one JSON document\n"
              "  /ready        200 once config is loaded and listeners are bound\n"
              "  /config_dump  resources, rejected objects, compiled listeners/routes/clusters (JSON)\n"
              "  /stats        counters (?filter=REGEX: the names it matches, as Envoy's)\n"
              "  /stats/prometheus  Envoy's and Istio's metrics in the Prometheus text format\n"
              "  /clusters     upstream endpoints: health, ejections, circuit breakers (?format=json)\n"
              "  /listeners    every bound listener and its address:port (?format=json adds the\n"
              "                Gateway port and what it serves: HTTP, HTTPS, TLS_PASSTHROUGH, TCP, ...)\n"
              "  /explain      ?method=GET&url=http://host/path&header=Name:value[&format=text]:\n"
              "                where that request would go with the config in force (JSON)\n"
              "  /status       Gateway API status (conditions per Gateway, listener, route parent), YAML\n"};
    }
    return {404, "text/plain", "no such admin page; see /help\n"};
  };
}

}  // namespace torii::admin
