#include "admin/clusters_page.h"

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "admin/admin_server.h"
#include "upstream/endpoint_state.h"

namespace torii::admin {

namespace {

using nlohmann::json;
using Resource = upstream::ClusterCircuitBreaker::Resource;

uint64_t get(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

std::string limit_text(uint64_t v) { return std::to_string(v); }

}  // namespace

std::string cluster_stats(const upstream::SharedClusterRegistry& registry,
                          const compile::Snapshot* snapshot) {
  // Live state exists once a worker used the cluster; the snapshot's other
  // clusters are listed with zeros, as Envoy lists every cluster's stats.
  std::map<std::string, std::shared_ptr<const upstream::SharedClusterState>> by_name;
  for (auto& state : registry.all()) by_name.emplace(state->name(), std::move(state));
  std::map<std::string, const upstream::CircuitBreakerLimits*> limits_by_name;
  if (snapshot != nullptr) {
    for (const auto& info : snapshot->clusters) {
      by_name.emplace(info->name, nullptr);
      limits_by_name.emplace(info->name, &info->policy->limits);
    }
  }
  static const upstream::SharedClusterState kUnused("", 0);
  std::string out;
  for (const auto& [name, state] : by_name) {
    const upstream::SharedClusterState* c = state ? state.get() : &kUnused;
    const std::string prefix = "cluster." + name + ".";
    const upstream::ClusterStats& s = c->stats();
#define TORII_CLUSTER_STAT_LINE(name) out += prefix + #name + ": " + std::to_string(get(s.name)) + "\n";
    TORII_CLUSTER_COUNTERS(TORII_CLUSTER_STAT_LINE)
    TORII_CLUSTER_GAUGES(TORII_CLUSTER_STAT_LINE)
#undef TORII_CLUSTER_STAT_LINE
#define TORII_CLUSTER_HTTP2_STAT_LINE(name) \
  out += prefix + "http2." #name ": " + std::to_string(get(s.http2_##name)) + "\n";
    TORII_CLUSTER_HTTP2_STATS(TORII_CLUSTER_HTTP2_STAT_LINE)
#undef TORII_CLUSTER_HTTP2_STAT_LINE
    const auto& o = c->outlier_detector().stats();
#define TORII_OUTLIER_STAT_LINE(name) \
  out += prefix + "outlier_detection." #name ": " + std::to_string(get(o.name)) + "\n";
    TORII_OUTLIER_STAT_LINE(ejections_active)
    TORII_OUTLIER_STAT_LINE(ejections_total)
    TORII_OUTLIER_STAT_LINE(ejections_overflow)
    TORII_OUTLIER_STAT_LINE(ejections_enforced_total)
    TORII_OUTLIER_STAT_LINE(ejections_detected_consecutive_5xx)
    TORII_OUTLIER_STAT_LINE(ejections_enforced_consecutive_5xx)
    TORII_OUTLIER_STAT_LINE(ejections_detected_consecutive_gateway_failure)
    TORII_OUTLIER_STAT_LINE(ejections_enforced_consecutive_gateway_failure)
    TORII_OUTLIER_STAT_LINE(ejections_detected_consecutive_local_origin_failure)
    TORII_OUTLIER_STAT_LINE(ejections_enforced_consecutive_local_origin_failure)
#undef TORII_OUTLIER_STAT_LINE
    const upstream::ClusterCircuitBreaker& cb = c->circuit_breaker();
    // Torii's counts, then Envoy's gauges (Istio sets track_remaining, so
    // Envoy shows remaining_*): *_open is 1 while the limit is reached.
    const upstream::CircuitBreakerLimits& limits =
        limits_by_name.count(name) != 0 ? *limits_by_name.at(name) : upstream::CircuitBreakerLimits{};
    struct Breaker {
      Resource resource;
      const char* active;
      const char* open;
      const char* remaining;
      uint64_t limit;
    };
    const Breaker breakers[] = {
        {Resource::Connections, "cx_active", "cx_open", "remaining_cx", limits.max_connections},
        {Resource::PendingRequests, "rq_pending_active", "rq_pending_open", "remaining_pending",
         limits.max_pending_requests},
        {Resource::Requests, "rq_active", "rq_open", "remaining_rq", limits.max_requests},
        {Resource::Retries, "rq_retry_active", "rq_retry_open", "remaining_retries", limits.max_retries},
    };
    const std::string cb_prefix = prefix + "circuit_breakers.default.";
    for (const Breaker& b : breakers) {
      const uint64_t active = cb.active(b.resource);
      out += cb_prefix + b.active + ": " + std::to_string(active) + "\n";
      out += cb_prefix + b.open + ": " + (active >= b.limit ? "1" : "0") + "\n";
      out += cb_prefix + b.remaining + ": " + std::to_string(active >= b.limit ? 0 : b.limit - active) + "\n";
    }
  }
  return out;
}

AdminResponse clusters_page(const ConfigState& state, const upstream::SharedClusterRegistry& registry,
                            const std::string& query) {
  const bool as_json = query_param(query, "format") == "json";
  const uint64_t now = upstream::monotonic_ms();
  json clusters = json::array();
  std::string text;
  if (state.snapshot) {
    for (const auto& info : state.snapshot->clusters) {
      auto shared = registry.find(info->name);
      const upstream::ClusterPolicy& p = *info->policy;
      if (shared) shared->maybe_sweep(p.outlier, now);  // show returns that are due even without traffic
      const std::string& n = info->name;
      json cj = {{"name", n},
                 {"lb_policy", upstream::lb_policy_name(p.lb)},
                 {"outlier_detection", p.outlier.enabled},
                 {"healthy_panic_threshold", p.healthy_panic_threshold}};
      json limits = {{"max_connections", p.limits.max_connections},
                     {"max_pending_requests", p.limits.max_pending_requests},
                     {"max_requests", p.limits.max_requests},
                     {"max_retries", p.limits.max_retries}};
      cj["circuit_breakers"] = limits;
      text += n + "::default_priority::max_connections::" + limit_text(p.limits.max_connections) + "\n";
      text +=
          n + "::default_priority::max_pending_requests::" + limit_text(p.limits.max_pending_requests) + "\n";
      text += n + "::default_priority::max_requests::" + limit_text(p.limits.max_requests) + "\n";
      text += n + "::default_priority::max_retries::" + limit_text(p.limits.max_retries) + "\n";
      if (shared) {
        const auto& cb = shared->circuit_breaker();
        cj["active"] = {{"connections", cb.active(Resource::Connections)},
                        {"pending_requests", cb.active(Resource::PendingRequests)},
                        {"requests", cb.active(Resource::Requests)},
                        {"retries", cb.active(Resource::Retries)}};
        cj["ejections_active"] = get(shared->outlier_detector().stats().ejections_active);
      }
      json endpoints = json::array();
      for (const upstream::Endpoint& e : info->endpoints) {
        const std::string key = upstream::endpoint_key(e.address, e.port);
        auto es = shared ? shared->find_endpoint(key) : nullptr;
        bool ejected = es && es->ejected.load(std::memory_order_relaxed);
        uint64_t left_ms = 0;
        uint64_t times = 0;
        if (es) {
          std::lock_guard<std::mutex> lock(shared->outlier_detector().mutex());
          times = es->times_ejected;
          if (ejected) {
            uint64_t until =
                es->ejected_at_ms + shared->outlier_detector().ejection_duration_ms(*es, p.outlier);
            left_ms = until > now ? until - now : 0;
          }
        }
        const std::string flags = ejected ? "/failed_outlier_check" : "healthy";
        const uint64_t rq_active = es ? get(es->rq_active) : 0;
        const uint64_t cx_active = es ? get(es->cx_active) : 0;
        const uint64_t rq_total = es ? get(es->rq_total) : 0;
        const uint64_t rq_error = es ? get(es->rq_error) : 0;
        const std::string line = n + "::" + key + "::";
        text += line + "cx_active::" + std::to_string(cx_active) + "\n";
        text += line + "rq_active::" + std::to_string(rq_active) + "\n";
        text += line + "rq_total::" + std::to_string(rq_total) + "\n";
        text += line + "rq_error::" + std::to_string(rq_error) + "\n";
        text += line + "health_flags::" + flags + "\n";
        text += line + "weight::" + std::to_string(e.lb_weight) + "\n";
        text += line + "priority::" + std::to_string(e.priority) + "\n";
        text += line + "locality::" + e.locality + "\n";
        if (ejected) text += line + "ejection_time_left_ms::" + std::to_string(left_ms) + "\n";
        endpoints.push_back({{"address", key},
                             {"health", ejected ? "ejected" : "healthy"},
                             {"health_flags", flags},
                             {"ejection_time_left_ms", left_ms},
                             {"times_ejected", times},
                             {"consecutive_5xx", es ? es->consecutive_5xx.load() : 0u},
                             {"rq_active", rq_active},
                             {"rq_total", rq_total},
                             {"rq_error", rq_error},
                             {"cx_active", cx_active},
                             {"weight", e.weight},
                             {"lb_weight", e.lb_weight},
                             {"priority", e.priority},
                             {"locality", e.locality}});
      }
      cj["endpoints"] = endpoints;
      clusters.push_back(cj);
    }
  }
  if (as_json) return {200, "application/json", json{{"clusters", clusters}}.dump(2) + "\n"};
  return {200, "text/plain", text};
}

}  // namespace torii::admin
