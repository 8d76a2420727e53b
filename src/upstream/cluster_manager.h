// A worker's view of all upstream clusters: the per-cluster state
// (ClusterState, keyed by name so it survives reloads), the connection pool
// and the worker's random source.
//
// The fast path for a request on the current snapshot is one vector index
// and one pointer compare (ClusterInfo::index); a request still running on
// an older snapshot takes a by-name lookup.
//
// Owned by one worker; loop thread only.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/event_loop.h"
#include "upstream/cluster_info.h"
#include "upstream/cluster_state.h"
#include "upstream/connection_pool.h"
#include "upstream/fast_random.h"
#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

class ClusterManager {
 public:
  // `registry`: where the process-wide per-cluster state lives (shared by
  // all workers); null => a private one (tests). `counters`: the worker's
  // own connection counters the pool keeps.
  ClusterManager(net::EventLoop& loop, uint32_t idle_timeout_ms, uint64_t random_seed,
                 ConnectionPool::Counters counters = {}, SharedClusterRegistry* registry = nullptr);
  ~ClusterManager();
  ClusterManager(const ClusterManager&) = delete;
  ClusterManager& operator=(const ClusterManager&) = delete;

  // Call when the worker switches to a new snapshot, before any request
  // uses it: binds state to the new clusters and drops what is gone.
  // `slots`: every ClusterInfo::index is below it.
  void on_snapshot(const std::vector<std::shared_ptr<const ClusterInfo>>& clusters, size_t slots);

  ClusterState& cluster(const ClusterInfo& info);
  ConnectionPool& pool() { return pool_; }
  FastRandom& random() { return random_; }
  size_t cluster_state_count() const { return by_name_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::unique_ptr<SharedClusterRegistry> own_registry_;
  SharedClusterRegistry* registry_;
  ConnectionPool pool_;  // declared before the states: connections reach it when they close
  FastRandom random_;
  std::unordered_map<std::string, std::unique_ptr<ClusterState>, StringHash, std::equal_to<>> by_name_;
  // Current snapshot's ClusterInfo::index -> that cluster and its state
  // (null until this worker first uses it).
  struct Slot {
    const ClusterInfo* info = nullptr;
    ClusterState* state = nullptr;
  };
  std::vector<Slot> by_index_;
};

}  // namespace torii::upstream
