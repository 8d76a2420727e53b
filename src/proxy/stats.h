// Gateway-wide counters, exposed on the admin /stats page.
//
// Each worker owns one WorkerStats and is its only writer; the admin thread
// reads all of them and sums. Relaxed atomics make those reads well-defined
// without putting a lock or a contended cache line on the request path.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace torii::proxy {

// Envoy's names where Envoy has one (http.<prefix>.downstream_rq_2xx, ...).
#define TORII_WORKER_COUNTERS(X)       \
  X(downstream_cx_total)               \
  X(downstream_cx_active)              \
  X(downstream_http1_parsers_active)   \
  X(buffer_slices_active)              \
  X(downstream_rq_total)               \
  X(downstream_rq_active)              \
  X(downstream_rq_1xx)                 \
  X(downstream_rq_2xx)                 \
  X(downstream_rq_3xx)                 \
  X(downstream_rq_4xx)                 \
  X(downstream_rq_5xx)                 \
  X(downstream_rq_http1_0)             \
  X(downstream_rq_http2_total)         \
  X(downstream_cx_http2_total)         \
  X(http2_inbound_flood)               \
  X(http2_premature_reset_close)       \
  X(downstream_rq_rx_reset)            \
  X(downstream_cx_protocol_error)      \
  X(downstream_rq_too_large_headers)   \
  X(no_route)                          \
  X(misdirected_request)               \
  X(no_cluster)                        \
  X(no_healthy_upstream)               \
  X(upstream_rq_total)                 \
  X(upstream_rq_completed)             \
  X(upstream_cx_total)                 \
  X(upstream_cx_active)                \
  X(upstream_cx_connect_fail)          \
  X(upstream_cx_connect_timeout)       \
  X(upstream_rq_reset_before_response) \
  X(upstream_cx_reused)                \
  X(upstream_rq_retry)                 \
  X(upstream_rq_retry_success)         \
  X(upstream_rq_retry_limit_exceeded)  \
  X(upstream_rq_retry_skipped_method)  \
  X(retry_or_shadow_abandoned)         \
  X(upstream_rq_timeout)               \
  X(upstream_rq_per_try_timeout)       \
  X(fault_delays_injected)             \
  X(fault_aborts_injected)             \
  X(cors_origin_valid)                 \
  X(cors_origin_invalid)               \
  X(cors_preflight_answered)           \
  X(jwt_authn_allowed)                 \
  X(jwt_authn_denied)                  \
  X(rbac_allowed)                      \
  X(rbac_denied)                       \
  X(rbac_shadow_denied)                \
  X(mirror_rq_total)                   \
  X(mirror_rq_dropped)                 \
  X(mirror_rq_failed)                  \
  X(downstream_cx_upgrades_total)      \
  X(upgrade_tunnel_idle_timeout)       \
  X(forward_proxy_denied)              \
  X(forward_proxy_blackhole)           \
  X(dns_resolution_failure)            \
  X(tcp_downstream_cx_total)           \
  X(tcp_downstream_cx_no_route)        \
  X(tcp_idle_timeout)                  \
  X(tcp_flow_paused_reading)           \
  X(tcp_flow_resumed_reading)          \
  X(tls_inspector_hello_too_large)     \
  X(tls_inspector_tls_not_found)       \
  X(tls_inspector_timeout)             \
  X(access_log_written)                \
  X(access_log_dropped)                \
  X(tracing_random_sampling)           \
  X(tracing_spans_buffered)            \
  X(tracing_spans_buffer_full)

struct WorkerStats {
#define TORII_DECLARE_COUNTER(name) std::atomic<uint64_t> name{0};
  TORII_WORKER_COUNTERS(TORII_DECLARE_COUNTER)
#undef TORII_DECLARE_COUNTER

  // Single-writer increment: a relaxed load+store, no locked instruction.
  static void inc(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void dec(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
  void count_response(int status);
};

// Summed counters as (name, value), in declaration order.
std::vector<std::pair<std::string, uint64_t>> sum_stats(const std::vector<const WorkerStats*>& workers);

}  // namespace torii::proxy
