// Per-worker mutable state of one cluster: endpoint states (active requests,
// pooled connections), the load balancer, and the worker's view of which
// endpoints may take traffic. Keyed by cluster name, so it outlives the
// snapshot that created it; bind() lines it up with the endpoints of a
// particular ClusterInfo. Holds the cluster's process-wide SharedClusterState
// (circuit breakers, outlier detection, counters).
//
// Host selection (choose()), as Envoy does it for one cluster:
//   1. endpoints ejected by outlier detection are left out; if the healthy
//      share falls below the panic threshold, health is ignored (panic);
//   2. priorities (locality failover): load goes to priority 0 as far as its
//      health allows (x1.4 overprovisioning), the rest spills to the next;
//   3. within the chosen priority, the cluster's balancer picks among the
//      candidates, with weights = endpoint weight x locality share x
//      slow-start ramp.
// The candidate lists are rebuilt only when ejections change (detector
// epoch), on rebind, or every 100 ms while an endpoint warms up.
//
// Owned by the worker's ClusterManager; loop thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/load_balancer.h"
#include "upstream/shared_cluster_state.h"

namespace torii::upstream {

class ConnectionPool;

class ClusterState {
 public:
  // Without `shared`, the state is private to this object (tests).
  explicit ClusterState(std::string name, std::shared_ptr<SharedClusterState> shared = nullptr);
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  const std::string& name() const { return name_; }
  SharedClusterState& shared() { return *shared_; }

  // The candidates of the most preferred usable priority of `info`, as this
  // worker sees them (rebinding / refreshing as needed).
  EndpointSet endpoints(const ClusterInfo& info, uint64_t now_ms = 0);
  LoadBalancer& load_balancer() { return *load_balancer_; }

  struct Choice {
    enum class Status { Ok, NoHealthyUpstream };
    Status status = Status::NoHealthyUpstream;
    size_t index = 0;  // into info.endpoints
    bool panic = false;
  };
  // Steps 1-3 above for one request.
  Choice choose(const ClusterInfo& info, std::optional<uint64_t> hash, FastRandom& random, uint64_t now_ms);
  EndpointState& endpoint_state(size_t index) { return *bound_[index]; }
  // A usable endpoint not in `avoid`, drawn uniformly from the most
  // preferred level that has one; nullopt if every usable one is in `avoid`.
  // For a retry whose re-picks all landed on endpoints already tried.
  std::optional<size_t> untried(const std::vector<size_t>& avoid, FastRandom& random) const;

  bool bound_to(const ClusterInfo* info) const { return bound_info_ == info; }
  // The TLS origination settings last bound (UpstreamTls::fingerprint).
  uint64_t tls_fingerprint() const { return tls_fingerprint_; }
  void bind(const ClusterInfo& info, uint64_t now_ms = 0);
  // Forget the bound ClusterInfo (its snapshot may be freed).
  void unbind();
  // Closes idle connections of endpoints not in the bound ClusterInfo and
  // frees the state of endpoints nothing uses any more.
  void collect_garbage(ConnectionPool& pool);
  // Closes every idle connection (cluster removed).
  void close_all_idle(ConnectionPool& pool);
  bool unused() const;

 private:
  struct Level {
    std::vector<uint32_t> candidates;
    std::vector<uint64_t> weights;
    std::vector<uint64_t> cumulative;  // empty when all weights are equal
    std::vector<uint8_t> usable;       // per endpoint
    uint32_t load = 0;                 // percent of traffic (Envoy priority load)
  };
  void refresh(const ClusterInfo& info, uint64_t now_ms);
  void build_level(Level& level, const ClusterInfo& info, const std::vector<uint32_t>& members,
                   uint64_t now_ms);
  EndpointSet view(const ClusterInfo& info, const Level& level) const;

  std::string name_;
  std::shared_ptr<SharedClusterState> shared_;
  std::unique_ptr<LoadBalancer> load_balancer_;
  LbPolicy lb_policy_ = LbPolicy::LeastRequest;
  std::unordered_map<std::string, std::unique_ptr<EndpointState>> by_key_;
  const ClusterInfo* bound_info_ = nullptr;
  std::vector<EndpointState*> bound_;  // bound_[i] <-> bound_info_->endpoints[i]

  std::vector<Level> levels_;  // usable priority levels, most preferred first
  uint64_t tls_fingerprint_ = 0;
  bool panic_ = false;
  uint64_t generation_ = 0;
  uint64_t seen_epoch_ = UINT64_MAX;
  uint64_t next_warmup_refresh_ms_ = UINT64_MAX;  // UINT64_MAX: nothing warming
};

}  // namespace torii::upstream
