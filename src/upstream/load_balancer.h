// Endpoint choice within a cluster, per worker. One implementation per
// policy (its own file), chosen once per cluster when its state is created;
// the request path only calls pick().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "upstream/cluster_info.h"
#include "upstream/endpoint_state.h"
#include "upstream/fast_random.h"

namespace torii::upstream {

// A cluster's endpoints as this worker sees them: info.endpoints[i] and
// states[i] describe the same endpoint.
struct EndpointSet {
  const ClusterInfo* info = nullptr;
  std::span<EndpointState* const> states;
  // cumulative_weights[i] = sum of weights of endpoints 0..i; empty when all
  // weights are equal (then a uniform draw is enough).
  std::span<const uint64_t> cumulative_weights;

  size_t size() const { return states.size(); }
  // One endpoint drawn with probability proportional to its weight.
  size_t draw(FastRandom& random) const;
};

class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Index of the chosen endpoint; `endpoints` is not empty.
  virtual size_t pick(const EndpointSet& endpoints, FastRandom& random) = 0;
};

// Istio's default policy (LEAST_REQUEST).
std::unique_ptr<LoadBalancer> make_default_load_balancer();

}  // namespace torii::upstream
