// Process-wide state of one endpoint of one cluster, shared by every worker:
// outlier-detection counters and ejection, requests and connections in
// flight (for /clusters), and when the endpoint first appeared (slow start).
// Keyed by "address:port" inside its SharedClusterState, so it survives a
// reload that keeps the endpoint.
//
// Atomics are written by workers without locks; the fields marked "detector"
// only under the OutlierDetector's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace torii::upstream {

struct SharedEndpointState {
  SharedEndpointState(std::string k, uint64_t now_ms, bool was_initial)
      : key(std::move(k)), added_ms(now_ms), initial(was_initial) {}

  const std::string key;
  const uint64_t added_ms;  // monotonic ms when first seen
  // Part of the cluster when the cluster itself appeared: not "new", so no
  // slow start for it.
  const bool initial;

  std::atomic<bool> ejected{false};
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway{0};
  std::atomic<uint32_t> consecutive_local_origin{0};

  std::atomic<uint64_t> rq_active{0};
  std::atomic<uint64_t> rq_total{0};
  std::atomic<uint64_t> rq_error{0};  // 5xx answers and local-origin failures
  std::atomic<uint64_t> cx_active{0};

  // detector
  uint64_t ejected_at_ms = 0;
  uint32_t eject_backoff = 0;  // multiplier of baseEjectionTime for the next ejection
  uint64_t times_ejected = 0;
  bool unejected_this_tick = false;

  // Relaxed reset that skips the store (and the cache-line write) when
  // already zero: the common case on the success path.
  static void reset(std::atomic<uint32_t>& counter) {
    if (counter.load(std::memory_order_relaxed) != 0) counter.store(0, std::memory_order_relaxed);
  }
};

}  // namespace torii::upstream
