// Per-worker mutable state of one cluster: endpoint states (active requests,
// pooled connections) and the load balancer. Keyed by cluster name, so it
// outlives the snapshot that created it; bind() lines it up with the
// endpoints of a particular ClusterInfo.
//
// Owned by the worker's ClusterManager; loop thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/load_balancer.h"

namespace torii::upstream {

class ConnectionPool;

class ClusterState {
 public:
  explicit ClusterState(std::string name);
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  const std::string& name() const { return name_; }

  // The endpoints of `info` as this worker sees them (rebinding if `info` is
  // not the one bound last).
  EndpointSet endpoints(const ClusterInfo& info);
  LoadBalancer& load_balancer() { return *load_balancer_; }

  bool bound_to(const ClusterInfo* info) const { return bound_info_ == info; }
  void bind(const ClusterInfo& info);
  // Forget the bound ClusterInfo (its snapshot may be freed).
  void unbind();
  // Closes idle connections of endpoints not in the bound ClusterInfo and
  // frees the state of endpoints nothing uses any more.
  void collect_garbage(ConnectionPool& pool);
  // Closes every idle connection (cluster removed).
  void close_all_idle(ConnectionPool& pool);
  bool unused() const;

 private:
  std::string name_;
  std::unique_ptr<LoadBalancer> load_balancer_;
  std::unordered_map<std::string, std::unique_ptr<EndpointState>> by_key_;
  const ClusterInfo* bound_info_ = nullptr;
  std::vector<EndpointState*> bound_;         // bound_[i] <-> bound_info_->endpoints[i]
  std::vector<uint64_t> cumulative_weights_;  // empty when all weights are equal
};

}  // namespace torii::upstream
