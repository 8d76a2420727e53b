#include "upstream/outlier_detector.h"

#include <algorithm>

namespace torii::upstream {

namespace {
bool is_gateway_error(int status) { return status == 502 || status == 503 || status == 504; }
void inc(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

void OutlierDetector::put_http_status(SharedEndpointState& endpoint, int status, const OutlierPolicy& policy,
                                      size_t host_count, uint64_t now_ms) {
  if (!policy.enabled) return;
  count_http(endpoint, status, policy, host_count, now_ms);
}

// Envoy DetectorHostMonitorImpl::putHttpResponseCode.
void OutlierDetector::count_http(SharedEndpointState& endpoint, int status, const OutlierPolicy& policy,
                                 size_t host_count, uint64_t now_ms) {
  if (status >= 500 && status <= 599) {
    if (is_gateway_error(status)) {
      uint32_t n = endpoint.consecutive_gateway.fetch_add(1, std::memory_order_relaxed) + 1;
      if (policy.consecutive_gateway != 0 && n == policy.consecutive_gateway)
        on_consecutive(endpoint, Type::ConsecutiveGateway, policy, host_count, now_ms);
    } else {
      SharedEndpointState::reset(endpoint.consecutive_gateway);
    }
    uint32_t n = endpoint.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;
    if (policy.consecutive_5xx != 0 && n == policy.consecutive_5xx)
      on_consecutive(endpoint, Type::Consecutive5xx, policy, host_count, now_ms);
  } else {
    SharedEndpointState::reset(endpoint.consecutive_5xx);
    SharedEndpointState::reset(endpoint.consecutive_gateway);
  }
}

void OutlierDetector::put_result(SharedEndpointState& endpoint, Result result, const OutlierPolicy& policy,
                                 size_t host_count, uint64_t now_ms) {
  if (!policy.enabled) return;
  if (!policy.split_local_origin) {
    // putResultNoLocalExternalSplit: connect success is ignored; failures are 503/504.
    if (result == Result::ConnectFailed) count_http(endpoint, 503, policy, host_count, now_ms);
    if (result == Result::Timeout) count_http(endpoint, 504, policy, host_count, now_ms);
    return;
  }
  if (result == Result::ConnectSuccess) {
    SharedEndpointState::reset(endpoint.consecutive_local_origin);
    return;
  }
  uint32_t n = endpoint.consecutive_local_origin.fetch_add(1, std::memory_order_relaxed) + 1;
  if (policy.consecutive_local_origin != 0 && n == policy.consecutive_local_origin)
    on_consecutive(endpoint, Type::ConsecutiveLocalOrigin, policy, host_count, now_ms);
}

void OutlierDetector::on_consecutive(SharedEndpointState& endpoint, Type type, const OutlierPolicy& policy,
                                     size_t host_count, uint64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::atomic<uint32_t>* counter = &endpoint.consecutive_5xx;
  std::atomic<uint64_t>* detected = &stats_.ejections_detected_consecutive_5xx;
  std::atomic<uint64_t>* enforced = &stats_.ejections_enforced_consecutive_5xx;
  if (type == Type::ConsecutiveGateway) {
    counter = &endpoint.consecutive_gateway;
    detected = &stats_.ejections_detected_consecutive_gateway_failure;
    enforced = &stats_.ejections_enforced_consecutive_gateway_failure;
  } else if (type == Type::ConsecutiveLocalOrigin) {
    counter = &endpoint.consecutive_local_origin;
    detected = &stats_.ejections_detected_consecutive_local_origin_failure;
    enforced = &stats_.ejections_enforced_consecutive_local_origin_failure;
  }
  // Reset so that the endpoint needs a full run of errors again (Envoy).
  counter->store(0, std::memory_order_relaxed);
  if (endpoint.ejected.load(std::memory_order_relaxed)) return;
  inc(*detected);
  uint64_t active = stats_.ejections_active.load(std::memory_order_relaxed);
  size_t hosts = std::max<size_t>(host_count, 1);
  double percent_after = 100.0 * static_cast<double>(active + 1) / static_cast<double>(hosts);
  if (percent_after > policy.max_ejection_percent && active != 0) {
    inc(stats_.ejections_overflow);
    return;
  }
  endpoint.ejected.store(true, std::memory_order_relaxed);
  endpoint.ejected_at_ms = now_ms;
  endpoint.unejected_this_tick = false;
  ++endpoint.times_ejected;
  uint64_t cap = std::max(policy.base_ejection_ms, policy.max_ejection_ms);
  if (endpoint.eject_backoff * policy.base_ejection_ms < cap) ++endpoint.eject_backoff;
  inc(stats_.ejections_active);
  inc(stats_.ejections_total);
  inc(stats_.ejections_enforced_total);
  inc(*enforced);
  // A sweep must come within one interval of the ejection even when idle
  // sweeps had pushed the next one further.
  uint64_t next = now_ms + policy.interval_ms;
  if (next_sweep_ms_.load(std::memory_order_relaxed) > next)
    next_sweep_ms_.store(next, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

uint64_t OutlierDetector::ejection_duration_ms(const SharedEndpointState& endpoint,
                                               const OutlierPolicy& policy) const {
  if (!endpoint.ejected.load(std::memory_order_relaxed)) return 0;
  uint64_t cap = std::max(policy.base_ejection_ms, policy.max_ejection_ms);
  return std::min<uint64_t>(policy.base_ejection_ms * std::max<uint32_t>(1, endpoint.eject_backoff), cap);
}

void OutlierDetector::sweep(const std::vector<SharedEndpointState*>& endpoints, const OutlierPolicy& policy,
                            uint64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now_ms < next_sweep_ms_.load(std::memory_order_relaxed)) return;  // another thread just did it
  next_sweep_ms_.store(now_ms + std::max<uint64_t>(policy.interval_ms, 1), std::memory_order_relaxed);
  bool changed = false;
  for (SharedEndpointState* e : endpoints) {
    if (e->ejected.load(std::memory_order_relaxed)) {
      if (now_ms - e->ejected_at_ms >= ejection_duration_ms(*e, policy)) {
        e->ejected.store(false, std::memory_order_relaxed);
        SharedEndpointState::reset(e->consecutive_5xx);
        SharedEndpointState::reset(e->consecutive_gateway);
        SharedEndpointState::reset(e->consecutive_local_origin);
        e->unejected_this_tick = true;
        stats_.ejections_active.fetch_sub(1, std::memory_order_relaxed);
        changed = true;
      }
      continue;
    }
    // Healthy for a whole interval: the next ejection is one step shorter.
    // (Not on the tick that returned it, so repeated ejections do grow.)
    if (e->unejected_this_tick) {
      e->unejected_this_tick = false;
    } else if (e->eject_backoff != 0) {
      --e->eject_backoff;
    }
  }
  if (!policy.enabled) {
    // Outlier detection was switched off by a reload: nothing stays ejected.
    for (SharedEndpointState* e : endpoints) {
      if (e->ejected.exchange(false, std::memory_order_relaxed)) {
        stats_.ejections_active.fetch_sub(1, std::memory_order_relaxed);
        changed = true;
      }
    }
  }
  if (changed) epoch_.fetch_add(1, std::memory_order_acq_rel);
}

void OutlierDetector::forget(SharedEndpointState& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  if (endpoint.ejected.exchange(false, std::memory_order_relaxed)) {
    stats_.ejections_active.fetch_sub(1, std::memory_order_relaxed);
    epoch_.fetch_add(1, std::memory_order_acq_rel);
  }
}

}  // namespace torii::upstream
