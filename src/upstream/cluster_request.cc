#include "upstream/cluster_request.h"

#include <algorithm>

namespace torii::upstream {

ClusterRequest::Admission ClusterRequest::start(ClusterState& state, const ClusterInfo& info,
                                                std::optional<uint64_t> hash, FastRandom& random,
                                                uint64_t now_ms, const std::vector<size_t>* avoid,
                                                uint32_t max_picks) {
  finish();
  info_ = &info;
  shared_ = &state.shared();
  ClusterStats& stats = shared_->stats();
  ClusterState::Choice choice = state.choose(info, hash, random, now_ms);
  if (avoid != nullptr && !avoid->empty() && !hash) {
    auto tried = [&](size_t i) { return std::find(avoid->begin(), avoid->end(), i) != avoid->end(); };
    for (uint32_t picks = 1;
         picks < max_picks && choice.status == ClusterState::Choice::Status::Ok && tried(choice.index);
         ++picks) {
      choice = state.choose(info, hash, random, now_ms);
    }
    // Beyond Envoy: its previous_hosts predicate keeps the last pick even if
    // it was tried before, so with two endpoints and one down, about one
    // retry in 32 went back to the dead one (5 picks, each a coin toss under
    // LEAST_REQUEST ties). An untried endpoint is taken instead when one is
    // usable; with none, the last pick stands, as in Envoy.
    if (choice.status == ClusterState::Choice::Status::Ok && tried(choice.index)) {
      if (const std::optional<size_t> other = state.untried(*avoid, random)) choice.index = *other;
    }
  }
  if (choice.status != ClusterState::Choice::Status::Ok) {
    ClusterStats::inc(stats.upstream_cx_none_healthy);
    return Admission::NoHealthyUpstream;
  }
  if (choice.panic) ClusterStats::inc(stats.lb_healthy_panic);
  index_ = choice.index;
  endpoint_ = &state.endpoint_state(choice.index);
  return Admission::Ok;
}

bool ClusterRequest::attach() {
  if (attached_) return true;
  ClusterStats& stats = shared_->stats();
  if (!shared_->circuit_breaker().try_acquire(ClusterCircuitBreaker::Resource::Requests,
                                              info_->policy->limits.max_requests)) {
    // Envoy counts max_requests overflow under the pending-overflow counter too.
    ClusterStats::inc(stats.upstream_rq_pending_overflow);
    return false;
  }
  attached_ = true;
  ClusterStats::inc(stats.upstream_rq_total);
  ClusterStats::inc(stats.upstream_rq_active);
  endpoint_->shared->rq_active.fetch_add(1, std::memory_order_relaxed);
  endpoint_->shared->rq_total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ClusterRequest::report_status(int status, uint64_t now_ms) {
  if (shared_ == nullptr || endpoint_ == nullptr) return;
  shared_->stats().count_response(status);
  if (status >= 500) endpoint_->shared->rq_error.fetch_add(1, std::memory_order_relaxed);
  shared_->outlier_detector().put_http_status(*endpoint_->shared, status, info_->policy->outlier,
                                              info_->endpoints.size(), now_ms);
}

void ClusterRequest::report_connection(OutlierDetector::Result result, uint64_t now_ms) {
  if (shared_ == nullptr || endpoint_ == nullptr) return;
  if (result != OutlierDetector::Result::ConnectSuccess)
    endpoint_->shared->rq_error.fetch_add(1, std::memory_order_relaxed);
  shared_->outlier_detector().put_result(*endpoint_->shared, result, info_->policy->outlier,
                                         info_->endpoints.size(), now_ms);
}

void ClusterRequest::finish() {
  if (!attached_) return;
  attached_ = false;
  ClusterStats::dec(shared_->stats().upstream_rq_active);
  ClusterStats::inc(shared_->stats().upstream_rq_completed);
  endpoint_->shared->rq_active.fetch_sub(1, std::memory_order_relaxed);
  shared_->circuit_breaker().release(ClusterCircuitBreaker::Resource::Requests);
}

}  // namespace torii::upstream
