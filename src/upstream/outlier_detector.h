// Envoy's outlier detection (ISTIO_SEMANTICS §5.6) for one cluster, across
// all workers: consecutive 5xx, consecutive gateway errors (502/503/504) and,
// with splitExternalLocalOriginErrors, consecutive local-origin failures
// (connect failure, connect timeout, reset) counted apart.
//
// * A failure count reaching its threshold ejects the endpoint at once (as
//   Envoy does), unless that would eject more than maxEjectionPercent of the
//   cluster's endpoints; one endpoint may always be ejected (Envoy >= 1.24).
// * Ejection lasts baseEjectionTime x k, where k grows by one with each
//   ejection (capped at max_ejection_time, 300 s) and shrinks by one for
//   every interval the endpoint spends healthy; un-ejection happens on the
//   interval sweep, like Envoy's timer.
// * Without splitting, local-origin failures count as 503 (connect failure,
//   reset) or 504 (timeout), i.e. as 5xx and gateway errors.
//
// Time is passed in (monotonic ms) so the state machine is tested without
// sleeping. Success paths are lock-free (relaxed atomics); the mutex is
// taken only to eject and to sweep. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "upstream/cluster_policy.h"
#include "upstream/shared_endpoint_state.h"

namespace torii::upstream {

class OutlierDetector {
 public:
  enum class Result {
    ConnectSuccess,  // connection established
    ConnectFailed,   // refused / failed, or reset before the response
    Timeout,         // connect timeout
  };

  // An HTTP response from the endpoint.
  void put_http_status(SharedEndpointState& endpoint, int status, const OutlierPolicy& policy,
                       size_t host_count, uint64_t now_ms);
  // A connection-level outcome.
  void put_result(SharedEndpointState& endpoint, Result result, const OutlierPolicy& policy,
                  size_t host_count, uint64_t now_ms);

  // True when an interval has passed since the last sweep (one relaxed load).
  bool sweep_due(uint64_t now_ms) const { return now_ms >= next_sweep_ms_.load(std::memory_order_relaxed); }
  // Un-ejects the endpoints whose time is up and decays the backoff of the
  // healthy ones. `endpoints`: every endpoint the cluster knows.
  void sweep(const std::vector<SharedEndpointState*>& endpoints, const OutlierPolicy& policy,
             uint64_t now_ms);
  // Drops an endpoint that left the cluster (keeps ejections_active right).
  void forget(SharedEndpointState& endpoint);

  // Changes whenever any endpoint is ejected or returns: workers rebuild
  // their healthy sets when it moves.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // How long the current ejection of `endpoint` lasts in total (ms); 0 if not ejected.
  uint64_t ejection_duration_ms(const SharedEndpointState& endpoint, const OutlierPolicy& policy) const;

  struct Stats {
    std::atomic<uint64_t> ejections_active{0};
    std::atomic<uint64_t> ejections_total{0};
    std::atomic<uint64_t> ejections_overflow{0};
    std::atomic<uint64_t> ejections_enforced_total{0};
    std::atomic<uint64_t> ejections_detected_consecutive_5xx{0};
    std::atomic<uint64_t> ejections_enforced_consecutive_5xx{0};
    std::atomic<uint64_t> ejections_detected_consecutive_gateway_failure{0};
    std::atomic<uint64_t> ejections_enforced_consecutive_gateway_failure{0};
    std::atomic<uint64_t> ejections_detected_consecutive_local_origin_failure{0};
    std::atomic<uint64_t> ejections_enforced_consecutive_local_origin_failure{0};
  };
  const Stats& stats() const { return stats_; }
  std::mutex& mutex() const { return mu_; }

 private:
  enum class Type { Consecutive5xx, ConsecutiveGateway, ConsecutiveLocalOrigin };
  void on_consecutive(SharedEndpointState& endpoint, Type type, const OutlierPolicy& policy,
                      size_t host_count, uint64_t now_ms);
  void count_http(SharedEndpointState& endpoint, int status, const OutlierPolicy& policy, size_t host_count,
                  uint64_t now_ms);

  mutable std::mutex mu_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> next_sweep_ms_{0};
  Stats stats_;
};

}  // namespace torii::upstream
