// Process-wide state of one cluster, shared by every worker and kept across
// reloads that keep the cluster name (DESIGN.md "state that must outlive a
// reload"): circuit-breaker counts, outlier detection, per-endpoint shared
// state, counters.
//
// SharedClusterRegistry hands these out by name. Workers fetch them when a
// snapshot arrives (ClusterManager::on_snapshot), never per request; the
// registry holds weak references, so a cluster's state goes away once no
// worker has it any more (the cluster left every worker's snapshot and its
// last request finished).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "upstream/circuit_breaker.h"
#include "upstream/cluster_info.h"
#include "upstream/cluster_stats.h"
#include "upstream/outlier_detector.h"
#include "upstream/shared_endpoint_state.h"

namespace torii::upstream {

class SharedClusterState {
 public:
  SharedClusterState(std::string name, uint64_t now_ms) : name_(std::move(name)), created_ms_(now_ms) {}
  SharedClusterState(const SharedClusterState&) = delete;
  SharedClusterState& operator=(const SharedClusterState&) = delete;

  const std::string& name() const { return name_; }
  uint64_t created_ms() const { return created_ms_; }
  ClusterCircuitBreaker& circuit_breaker() { return circuit_breaker_; }
  const ClusterCircuitBreaker& circuit_breaker() const { return circuit_breaker_; }
  OutlierDetector& outlier_detector() { return outlier_; }
  const OutlierDetector& outlier_detector() const { return outlier_; }
  ClusterStats& stats() { return stats_; }
  const ClusterStats& stats() const { return stats_; }

  // The shared state of endpoint `key`, created (with `now_ms` as its
  // appearance time) if new. Snapshot-swap path, not per request.
  std::shared_ptr<SharedEndpointState> endpoint(const std::string& key, uint64_t now_ms);
  // Called after the first bind: endpoints created from now on are "new"
  // (slow start applies to them).
  void mark_populated() { populated_.store(true, std::memory_order_relaxed); }
  // Runs the outlier sweep if one is due (cheap when not).
  void maybe_sweep(const OutlierPolicy& policy, uint64_t now_ms);
  // Endpoints known now, for /clusters (copies of the pointers).
  std::vector<std::shared_ptr<SharedEndpointState>> endpoints() const;
  std::shared_ptr<SharedEndpointState> find_endpoint(const std::string& key) const;

 private:
  const std::string name_;
  const uint64_t created_ms_;
  ClusterCircuitBreaker circuit_breaker_;
  OutlierDetector outlier_;
  ClusterStats stats_;
  std::atomic<bool> populated_{false};
  mutable std::mutex mu_;  // endpoints_
  std::unordered_map<std::string, std::shared_ptr<SharedEndpointState>> endpoints_;
};

class SharedClusterRegistry {
 public:
  // The state for cluster `name`, created if no live one exists.
  std::shared_ptr<SharedClusterState> get(const std::string& name, uint64_t now_ms);
  // Live states (for /stats and /clusters).
  std::vector<std::shared_ptr<SharedClusterState>> all() const;
  std::shared_ptr<SharedClusterState> find(const std::string& name) const;

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::weak_ptr<SharedClusterState>> by_name_;
};

// Monotonic milliseconds on the clock the event loops use.
uint64_t monotonic_ms();

}  // namespace torii::upstream
