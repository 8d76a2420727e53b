// Envoy's per-cluster circuit breakers (ISTIO_SEMANTICS §5.5): connections,
// pending requests, active requests and active retries, each a counter
// shared by every worker of the process (as Envoy's ResourceManager is), so
// `maxConnections: 1` means one connection per gateway, not per core.
//
// Admission is lock-free: fetch_add, and give the slot back if that went
// over the limit. try_acquire never exceeds a limit (a racing admission that
// went over backs out); two racing admissions at the limit may both be
// refused, which errs on the safe side. Only acquire() goes over, on purpose. The limits are read from the
// caller's ClusterInfo on every call, so a reload that changes them takes effect at once while the counts
// carry over (the breaker lives in SharedClusterState, keyed by cluster name).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "upstream/cluster_policy.h"

namespace torii::upstream {

class ClusterCircuitBreaker {
 public:
  enum class Resource { Connections, PendingRequests, Requests, Retries };

  // True if one more of `resource` fits under `limit`; the caller then owns
  // the slot and must release() it exactly once.
  bool try_acquire(Resource resource, uint64_t limit) {
    std::atomic<uint64_t>& c = counter(resource);
    if (limit >= kUnlimited) {
      c.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (c.fetch_add(1, std::memory_order_relaxed) >= limit) {
      c.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release(Resource resource) { counter(resource).fetch_sub(1, std::memory_order_relaxed); }
  // Takes a slot whatever the limit: Envoy's pool that has no connection at
  // all opens one even at max_connections (ConnectionPool). The count may
  // then stand above the limit until connections close.
  void acquire(Resource resource) { counter(resource).fetch_add(1, std::memory_order_relaxed); }

  // For the retry code (VirtualService retries): may this cluster start one
  // more retry now (http.maxRetries)? On true, call release_retry() when the
  // retry attempt ends. Envoy counts a refusal as upstream_rq_retry_overflow
  // and does not retry.
  bool try_acquire_retry(const CircuitBreakerLimits& limits) {
    return try_acquire(Resource::Retries, limits.max_retries);
  }
  void release_retry() { release(Resource::Retries); }

  uint64_t active(Resource resource) const { return counter(resource).load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t>& counter(Resource r) { return counters_[static_cast<int>(r)].value; }
  const std::atomic<uint64_t>& counter(Resource r) const { return counters_[static_cast<int>(r)].value; }

  // One cache line each: workers admitting requests do not also bounce the
  // connection counter's line.
  struct alignas(64) Slot {
    std::atomic<uint64_t> value{0};
  };
  Slot counters_[4];
};

}  // namespace torii::upstream
