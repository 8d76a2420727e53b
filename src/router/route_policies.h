// Everything a route does to a request besides picking a cluster (issue 3,
// second half): timeout, retries, fault injection, mirroring, CORS. Compiled
// once from the VirtualService rule (compile/policy_translation), read-only
// on the request path. A default-constructed RoutePolicies does nothing (no
// timeout, no retries): the compiler applies Istio's defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "router/cors_policy.h"
#include "router/fault_policy.h"
#include "router/retry_policy.h"
#include "upstream/cluster_info.h"

namespace torii::router {

// One mirror (Envoy request_mirror_policies entry).
struct MirrorPolicy {
  std::string cluster_name;
  const upstream::ClusterInfo* cluster = nullptr;  // nullptr => not mirrored (no such cluster)
  uint32_t per_million = 1000000;                  // mirrorPercentage; absent => 100%
};

struct RoutePolicies {
  uint64_t timeout_ms = 0;  // VS `timeout`; 0 = none (Istio's default)
  RetryPolicy retry;
  std::optional<FaultPolicy> fault;
  std::vector<MirrorPolicy> mirrors;
  std::optional<CorsPolicy> cors;
};

}  // namespace torii::router
