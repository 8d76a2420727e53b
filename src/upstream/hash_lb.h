// RING_HASH and MAGLEV: the request's hash key looked up in the cluster's
// ConsistentHashTable (built at compile time, identical on every worker and
// across reloads that keep the endpoints), skipping endpoints that are not
// candidates now. A request without a key (header, cookie or parameter
// absent) gets a random candidate, as in Envoy.
#pragma once

#include "upstream/load_balancer.h"

namespace torii::upstream {

class HashLoadBalancer final : public LoadBalancer {
 public:
  size_t pick(const EndpointSet& endpoints, FastRandom& random) override;
};

}  // namespace torii::upstream
