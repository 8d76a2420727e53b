// ROUND_ROBIN. Equal weights: a rotating cursor over the candidates, started
// at a random position per worker (as Envoy does, so workers do not all hit
// the first endpoint together). Unequal weights: smooth weighted round robin
// (nginx's algorithm), which interleaves endpoints instead of sending bursts;
// O(candidates) per pick, Envoy's EDF scheduler gives the same sequence
// shape in O(log n). Cursor state resets when the candidates change.
#pragma once

#include <vector>

#include "upstream/load_balancer.h"

namespace torii::upstream {

class RoundRobinLoadBalancer final : public LoadBalancer {
 public:
  size_t pick(const EndpointSet& endpoints, FastRandom& random) override;

 private:
  uint64_t generation_ = UINT64_MAX;
  uint64_t cursor_ = 0;
  std::vector<int64_t> current_;  // smooth WRR running weights, per candidate
};

}  // namespace torii::upstream
