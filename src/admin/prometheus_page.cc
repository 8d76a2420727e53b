#include "admin/prometheus_page.h"

#include <map>
#include <memory>

#include "proxy/stats.h"
#include "router/local_rate_limit.h"
#include "telemetry/istio_labels.h"
#include "telemetry/process_metrics.h"
#include "telemetry/prometheus_writer.h"
#include "telemetry/request_metrics.h"
#include "telemetry/response_flags.h"
#include "upstream/cluster_info.h"

namespace torii::admin {

namespace {

using telemetry::Labels;
using telemetry::PrometheusWriter;
using Resource = upstream::ClusterCircuitBreaker::Resource;

uint64_t relaxed(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

// cluster.<name>.<stat> -> envoy_cluster_<stat>{cluster_name="<name>"}; a
// Torii stat (torii_<stat>) -> torii_cluster_<stat>.
std::string cluster_metric(std::string_view stat) {
  if (stat.starts_with("torii_")) return telemetry::metric_name("torii_cluster_", stat.substr(6));
  return telemetry::metric_name("envoy_cluster_", stat);
}

// upstream_rq_2xx...: printed as the family above.
bool response_class_stat(std::string_view stat) {
  return stat.size() == 15 && stat.starts_with("upstream_rq_") && stat.ends_with("xx");
}

void cluster_families(PrometheusWriter& w, const upstream::SharedClusterRegistry& registry,
                      const compile::Snapshot* snapshot) {
  std::map<std::string, std::shared_ptr<const upstream::SharedClusterState>> by_name;
  for (auto& state : registry.all()) by_name.emplace(state->name(), std::move(state));
  std::map<std::string, const upstream::ClusterInfo*> info_by_name;
  if (snapshot != nullptr) {
    for (const auto& info : snapshot->clusters) {
      by_name.emplace(info->name, nullptr);
      info_by_name.emplace(info->name, info.get());
    }
  }
  static const upstream::SharedClusterState kUnused("", 0);
  for (const auto& [name, state] : by_name) {
    const upstream::SharedClusterState* c = state ? state.get() : &kUnused;
    const Labels labels = {{"cluster_name", name}};
    const upstream::ClusterStats& s = c->stats();
    // upstream_rq_<class>: one family with a response_code_class label (Istio's tag extraction).
    const std::pair<const char*, const std::atomic<uint64_t>*> classes[] = {{"2xx", &s.upstream_rq_2xx},
                                                                            {"3xx", &s.upstream_rq_3xx},
                                                                            {"4xx", &s.upstream_rq_4xx},
                                                                            {"5xx", &s.upstream_rq_5xx}};
    for (const auto& [cls, value] : classes)
      w.counter("envoy_cluster_upstream_rq", {{"response_code_class", cls}, {"cluster_name", name}},
                relaxed(*value));
#define TORII_PROM_CLUSTER_COUNTER(stat) \
  if (!response_class_stat(#stat)) w.counter(cluster_metric(#stat), labels, relaxed(s.stat));
    TORII_CLUSTER_COUNTERS(TORII_PROM_CLUSTER_COUNTER)
#undef TORII_PROM_CLUSTER_COUNTER
#define TORII_PROM_CLUSTER_GAUGE(stat) w.gauge(cluster_metric(#stat), labels, relaxed(s.stat));
    TORII_CLUSTER_GAUGES(TORII_PROM_CLUSTER_GAUGE)
#undef TORII_PROM_CLUSTER_GAUGE
#define TORII_PROM_CLUSTER_HTTP2(stat)                                      \
  if (std::string_view(#stat) == "streams_active")                          \
    w.gauge("envoy_cluster_http2_" #stat, labels, relaxed(s.http2_##stat)); \
  else                                                                      \
    w.counter("envoy_cluster_http2_" #stat, labels, relaxed(s.http2_##stat));
    TORII_CLUSTER_HTTP2_STATS(TORII_PROM_CLUSTER_HTTP2)
#undef TORII_PROM_CLUSTER_HTTP2
    const auto& o = c->outlier_detector().stats();
    w.gauge("envoy_cluster_outlier_detection_ejections_active", labels, relaxed(o.ejections_active));
#define TORII_PROM_OUTLIER(stat) w.counter("envoy_cluster_outlier_detection_" #stat, labels, relaxed(o.stat));
    TORII_PROM_OUTLIER(ejections_total)
    TORII_PROM_OUTLIER(ejections_overflow)
    TORII_PROM_OUTLIER(ejections_enforced_total)
    TORII_PROM_OUTLIER(ejections_detected_consecutive_5xx)
    TORII_PROM_OUTLIER(ejections_enforced_consecutive_5xx)
    TORII_PROM_OUTLIER(ejections_detected_consecutive_gateway_failure)
    TORII_PROM_OUTLIER(ejections_enforced_consecutive_gateway_failure)
    TORII_PROM_OUTLIER(ejections_detected_consecutive_local_origin_failure)
    TORII_PROM_OUTLIER(ejections_enforced_consecutive_local_origin_failure)
#undef TORII_PROM_OUTLIER
    auto info = info_by_name.find(name);
    const upstream::ClusterInfo* ci = info != info_by_name.end() ? info->second : nullptr;
    if (ci != nullptr) {
      const uint64_t members = ci->endpoints.size();
      const uint64_t ejected = relaxed(o.ejections_active);
      w.gauge("envoy_cluster_membership_total", labels, members);
      w.gauge("envoy_cluster_membership_healthy", labels, ejected < members ? members - ejected : 0);
    }
    // Circuit breakers of the default priority: *_open is 1 while the limit is reached.
    const upstream::CircuitBreakerLimits limits =
        ci != nullptr ? ci->policy->limits : upstream::CircuitBreakerLimits{};
    struct Breaker {
      Resource resource;
      const char* open;
      const char* remaining;
      uint64_t limit;
    };
    const Breaker breakers[] = {
        {Resource::Connections, "cx_open", "remaining_cx", limits.max_connections},
        {Resource::PendingRequests, "rq_pending_open", "remaining_pending", limits.max_pending_requests},
        {Resource::Requests, "rq_open", "remaining_rq", limits.max_requests},
        {Resource::Retries, "rq_retry_open", "remaining_retries", limits.max_retries},
    };
    const upstream::ClusterCircuitBreaker& cb = c->circuit_breaker();
    for (const Breaker& b : breakers) {
      const uint64_t active = cb.active(b.resource);
      w.gauge(std::string("envoy_cluster_circuit_breakers_default_") + b.open, labels,
              active >= b.limit ? 1 : 0);
      w.gauge(std::string("envoy_cluster_circuit_breakers_default_") + b.remaining, labels,
              active >= b.limit ? 0 : b.limit - active);
    }
  }
}

// Per listener: listener.<address>.downstream_cx_* and, for HTTP, its
// connection manager's http.outbound_<listener>.* stats.
void listener_families(PrometheusWriter& w, const std::vector<const telemetry::RequestMetrics*>& workers) {
  struct Merged {
    bool http = false;
    uint64_t cx_total = 0;
    uint64_t cx_active = 0;
    uint64_t total = 0;
    uint64_t classes[5] = {};
    uint64_t no_route = 0;
    telemetry::HistogramSnapshot time;
  };
  std::map<std::string, Merged> merged;
  for (const telemetry::RequestMetrics* m : workers) {
    m->for_each_listener([&merged](const telemetry::ListenerSeries& l) {
      Merged& out = merged[l.listener];
      out.http = out.http || l.http.load(std::memory_order_relaxed);
      out.cx_total += relaxed(l.cx_total);
      out.cx_active += relaxed(l.cx_active);
      out.total += relaxed(l.rq_total);
      for (size_t i = 0; i < 5; ++i) out.classes[i] += relaxed(l.rq_class[i]);
      out.no_route += relaxed(l.no_route);
      l.rq_time_ms.add_to(out.time);
    });
  }
  for (const auto& [listener, m] : merged) {
    const Labels address = {{"listener_address", listener}};
    w.counter("envoy_listener_downstream_cx_total", address, m.cx_total);
    w.gauge("envoy_listener_downstream_cx_active", address, m.cx_active);
    if (!m.http) continue;
    const std::string prefix = "outbound_" + listener;
    const Labels labels = {{"http_conn_manager_prefix", prefix}};
    w.counter("envoy_http_downstream_rq_total", labels, m.total);
    static const char* kClasses[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (size_t i = 0; i < 5; ++i)
      w.counter("envoy_http_downstream_rq",
                {{"response_code_class", kClasses[i]}, {"http_conn_manager_prefix", prefix}}, m.classes[i]);
    w.counter("envoy_http_no_route", labels, m.no_route);
    w.histogram("envoy_http_downstream_rq_time", labels, m.time);
  }
}

// The labels of Istio's standard metrics, in Envoy's print order
// (ISTIO_TELEMETRY.md 1.2); `tail` are the protocol-specific ones.
std::string istio_labels(const std::array<std::string, 8>& source, const std::array<std::string, 9>& d,
                         const Labels& tail) {
  Labels l = {{"reporter", "source"},
              {"source_workload", source[0]},
              {"source_canonical_service", source[1]},
              {"source_canonical_revision", source[2]},
              {"source_workload_namespace", source[3]},
              {"source_principal", source[4]},
              {"source_app", source[5]},
              {"source_version", source[6]},
              {"source_cluster", source[7]},
              {"destination_workload", d[0]},
              {"destination_workload_namespace", d[1]},
              {"destination_principal", "unknown"},
              {"destination_app", d[2]},
              {"destination_version", d[3]},
              {"destination_service", d[4]},
              {"destination_canonical_service", d[5]},
              {"destination_canonical_revision", d[6]},
              {"destination_service_name", d[7]},
              {"destination_service_namespace", d[8]},
              {"destination_cluster", d[0] == "unknown" ? "unknown" : source[7]}};
  l.insert(l.end(), tail.begin(), tail.end());
  return telemetry::format_labels(l);
}

void istio_families(PrometheusWriter& w, const std::vector<const telemetry::RequestMetrics*>& workers,
                    const telemetry::GatewayIdentity& identity, const std::string& version) {
  const std::array<std::string, 8> source = telemetry::source_label_values(identity);
  for (const telemetry::RequestMetrics* m : workers) {
    m->for_each_http([&](const telemetry::HttpSeries& s) {
      const std::string code = std::to_string(s.key.response_code);
      const std::string grpc = s.key.grpc_status >= 0 ? std::to_string(s.key.grpc_status) : "";
      const std::string flags = telemetry::response_flags_string(s.key.response_flags);
      const std::string labels = istio_labels(source, s.destination,
                                              {{"request_protocol", s.key.grpc ? "grpc" : "http"},
                                               {"response_code", code},
                                               {"grpc_response_status", grpc},
                                               {"response_flags", flags},
                                               {"connection_security_policy", "unknown"}});
      w.counter_formatted("istio_requests_total", labels, relaxed(s.requests));
      telemetry::HistogramSnapshot h;
      s.duration_ms.add_to(h);
      w.histogram_formatted("istio_request_duration_milliseconds", labels, h);
      h = {};
      s.request_bytes.add_to(h);
      w.histogram_formatted("istio_request_bytes", labels, h);
      h = {};
      s.response_bytes.add_to(h);
      w.histogram_formatted("istio_response_bytes", labels, h);
    });
    m->for_each_tcp([&](const telemetry::TcpSeries& s) {
      const std::string flags = telemetry::response_flags_string(s.key.response_flags);
      const std::string labels = istio_labels(source, s.destination,
                                              {{"request_protocol", "tcp"},
                                               {"response_flags", flags},
                                               {"connection_security_policy", "unknown"}});
      w.counter_formatted("istio_tcp_connections_opened_total", labels, relaxed(s.opened));
      w.counter_formatted("istio_tcp_connections_closed_total", labels, relaxed(s.closed));
      w.counter_formatted("istio_tcp_received_bytes_total", labels, relaxed(s.received_bytes));
      w.counter_formatted("istio_tcp_sent_bytes_total", labels, relaxed(s.sent_bytes));
    });
  }
  w.gauge("istio_build", {{"component", "proxy"}, {"tag", version}}, 1);
}

}  // namespace

std::string prometheus_stats(const ConfigState& state, const proxy::Server& server,
                             const PrometheusContext& context) {
  PrometheusWriter w;
  // Server-wide.
  const bool live = state.snapshot != nullptr && server.ready();
  w.gauge("envoy_server_live", {}, live ? 1 : 0);
  w.gauge("envoy_server_state", {}, live ? 0 : 2);  // 0 LIVE, 2 PRE_INITIALIZING
  w.gauge("envoy_server_uptime", {},
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::steady_clock::now() - context.started)
                                    .count()));
  w.gauge("envoy_server_concurrency", {}, static_cast<uint64_t>(server.options().workers));
  const auto totals = proxy::sum_stats(server.worker_stats());
  for (const auto& [name, value] : totals) {
    if (name == "downstream_cx_active") w.gauge("envoy_server_total_connections", {}, value);
    // The rest are gateway-wide (not per listener as Envoy keeps them):
    // Torii's names, gauges for the *_active ones.
    if (name.ends_with("_active")) {
      w.gauge(telemetry::metric_name("torii_", name), {}, value);
    } else {
      w.counter(telemetry::metric_name("torii_", name), {}, value);
    }
  }
  // Envoy's names: envoy_<stat_prefix>_http_local_rate_limit_<counter>.
  for (const auto& [name, value] : router::rate_limit_registry().stats()) {
    w.counter(telemetry::metric_name("envoy_", name), {}, value);
  }
  w.counter("torii_config_reloads", {}, state.reloads);
  if (state.snapshot) {
    w.gauge("envoy_cluster_manager_active_clusters", {}, state.snapshot->clusters.size());
    w.gauge("envoy_listener_manager_total_listeners_active", {}, state.snapshot->listeners.size());
  }
  cluster_families(w, server.clusters(), state.snapshot.get());
  const std::vector<const telemetry::RequestMetrics*> workers = server.worker_metrics();
  listener_families(w, workers);
  if (server.options().istio_metrics) istio_families(w, workers, server.options().identity, context.version);
  return w.render();
}

AdminResponse prometheus_page(const ConfigState& state, const proxy::Server& server,
                              const PrometheusContext& context) {
  std::string body = prometheus_stats(state, server, context);
  telemetry::append_process_metrics(body);
  return {200, "text/plain; version=0.0.4", body};
}

}  // namespace torii::admin
