// Endpoint choice within a cluster, per worker. One implementation per
// policy (its own file), chosen once per cluster when its state is bound to
// a ClusterInfo (make_load_balancer); the request path only calls pick().
//
// A balancer sees the *candidates*: the endpoints of one priority level that
// may take traffic now (not ejected, or all of them in panic), with their
// effective weights (endpoint weight x locality share x slow-start ramp).
// ClusterState (cluster_state.h) computes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/fast_random.h"

namespace torii::upstream {

struct EndpointSet {
  const ClusterInfo* info = nullptr;
  // Aligned with info->endpoints: states[i] is endpoint i on this worker.
  std::span<EndpointState* const> states;
  // Endpoint indices the balancer may choose from (never empty when picked).
  std::span<const uint32_t> candidates;
  // Effective weight of each candidate (same order).
  std::span<const uint64_t> weights;
  // cumulative_weights[k] = weights[0] + ... + weights[k]; empty when all
  // candidates weigh the same (then a uniform draw is enough).
  std::span<const uint64_t> cumulative_weights;
  // Per endpoint index: 1 if it is a candidate (consistent-hash walks).
  std::span<const uint8_t> usable;
  // Changes whenever candidates or weights change (stateful balancers reset).
  uint64_t generation = 0;
  // The request's consistent-hash key, if its hash policy found one.
  std::optional<uint64_t> hash;

  size_t size() const { return candidates.size(); }
  // A candidate drawn with probability proportional to its weight; returns
  // its position in `candidates`.
  size_t draw(FastRandom& random) const;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Index (into info->endpoints) of the chosen endpoint; `endpoints` has at
  // least one candidate.
  virtual size_t pick(const EndpointSet& endpoints, FastRandom& random) = 0;
};

// The balancer for `policy` (LEAST_REQUEST for anything unknown).
std::unique_ptr<LoadBalancer> make_load_balancer(LbPolicy policy);
// Istio's default policy (LEAST_REQUEST).
std::unique_ptr<LoadBalancer> make_default_load_balancer();

}  // namespace torii::upstream
