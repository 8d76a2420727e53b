// RANDOM: a weighted random candidate (also PASSTHROUGH at a gateway, see
// cluster_policy.h).
#pragma once

#include "upstream/load_balancer.h"

namespace torii::upstream {

class RandomLoadBalancer final : public LoadBalancer {
 public:
  size_t pick(const EndpointSet& endpoints, FastRandom& random) override {
    return endpoints.candidates[endpoints.draw(random)];
  }
};

}  // namespace torii::upstream
