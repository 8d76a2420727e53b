// Per-cluster counters with Envoy's names (cluster.<name>.<stat> on /stats).
// Shared by all workers of the process, like Envoy's cluster stats: relaxed
// atomic adds, no locks. Gauges go up and down; counters only up. Names
// starting with torii_ are Torii's own (Envoy has no such stat).
#pragma once

#include <atomic>
#include <cstdint>

namespace torii::upstream {

#define TORII_CLUSTER_COUNTERS(X)      \
  X(upstream_rq_total)                 \
  X(upstream_rq_completed)             \
  X(upstream_rq_2xx)                   \
  X(upstream_rq_3xx)                   \
  X(upstream_rq_4xx)                   \
  X(upstream_rq_5xx)                   \
  X(upstream_rq_pending_total)         \
  X(upstream_rq_pending_overflow)      \
  X(upstream_rq_pending_failure_eject) \
  X(upstream_rq_cancelled)             \
  X(upstream_rq_retry)                 \
  X(upstream_rq_retry_overflow)        \
  X(upstream_rq_retry_success)         \
  X(upstream_rq_timeout)               \
  X(upstream_rq_per_try_timeout)       \
  X(upstream_cx_total)                 \
  X(upstream_cx_overflow)              \
  X(upstream_cx_connect_fail)          \
  X(upstream_cx_connect_timeout)       \
  X(upstream_cx_max_requests)          \
  X(upstream_cx_max_duration_reached)  \
  X(upstream_cx_http1_total)           \
  X(upstream_cx_http2_total)           \
  X(upstream_cx_close_notify)          \
  X(upstream_cx_idle_timeout)          \
  X(upstream_cx_none_healthy)          \
  X(lb_healthy_panic)                  \
  X(upstream_cx_rx_bytes_total)        \
  X(upstream_cx_tx_bytes_total)        \
  X(torii_rq_pending_wait_ms_total)

// torii_rq_pending_wait_ms_max: the longest a request waited in a pending
// queue (ms), since the cluster's state was created.
#define TORII_CLUSTER_GAUGES(X) \
  X(upstream_rq_active)         \
  X(upstream_rq_pending_active) \
  X(upstream_cx_active)         \
  X(torii_rq_pending_wait_ms_max)

// Envoy's HTTP/2 codec stats of the cluster's connections
// (cluster.<name>.http2.<stat>); streams_active is a gauge.
#define TORII_CLUSTER_HTTP2_STATS(X) \
  X(rx_reset)                        \
  X(tx_reset)                        \
  X(trailers)                        \
  X(rx_messaging_error)              \
  X(streams_active)

struct ClusterStats {
#define TORII_DECLARE_CLUSTER_STAT(name) std::atomic<uint64_t> name{0};
  TORII_CLUSTER_COUNTERS(TORII_DECLARE_CLUSTER_STAT)
  TORII_CLUSTER_GAUGES(TORII_DECLARE_CLUSTER_STAT)
#define TORII_DECLARE_CLUSTER_HTTP2_STAT(name) std::atomic<uint64_t> http2_##name{0};
  TORII_CLUSTER_HTTP2_STATS(TORII_DECLARE_CLUSTER_HTTP2_STAT)
#undef TORII_DECLARE_CLUSTER_HTTP2_STAT
#undef TORII_DECLARE_CLUSTER_STAT

  static void inc(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
  static void dec(std::atomic<uint64_t>& c) { c.fetch_sub(1, std::memory_order_relaxed); }
  // c = max(c, value); a store only when it grows.
  static void raise(std::atomic<uint64_t>& c, uint64_t value) {
    uint64_t seen = c.load(std::memory_order_relaxed);
    while (value > seen && !c.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }
  void count_response(int status) {
    if (status >= 200 && status < 300)
      inc(upstream_rq_2xx);
    else if (status >= 300 && status < 400)
      inc(upstream_rq_3xx);
    else if (status >= 400 && status < 500)
      inc(upstream_rq_4xx);
    else if (status >= 500 && status < 600)
      inc(upstream_rq_5xx);
  }
};

}  // namespace torii::upstream
