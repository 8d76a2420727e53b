// LEAST_REQUEST, Istio's default: power of two choices. Two candidates are
// drawn (by weight) and the one with fewer requests in flight on this worker,
// relative to its weight, wins; a tie keeps the first draw, so with no load
// the traffic split follows the weights exactly. Envoy does the same for
// equal weights; for unequal weights Envoy schedules weight/(active+1) with
// EDF, which this approximates without per-cluster scheduler state.
#pragma once

#include "upstream/load_balancer.h"

namespace torii::upstream {

class LeastRequestLoadBalancer final : public LoadBalancer {
 public:
  size_t pick(const EndpointSet& endpoints, FastRandom& random) override;
};

}  // namespace torii::upstream
